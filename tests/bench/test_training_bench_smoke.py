"""The training benchmark works end to end: it generates, measures every case it reports, and writes its JSON.

A tiny plan (30 people x 3 courses) in the test database, SQLite or PostgreSQL,
to prove the machinery only; the timings mean nothing here (see bench/README.md,
"Training", for the real run).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.actions import AuditAction
from audit.models import AuditEvent
from bench.generate import BenchSetupError
from bench.training import TrainingPlan, run_training_benchmark
from training.models import Assignment

CASES = {
    "statuses",
    "statuses.unlisted",
    "standing_of.lapsed",
    "standing_of.compliant",
    "gate_refusal.lapsed",
    "gate_refusal.compliant",
    "view.dashboard",
    "view.dashboard.department",
    "view.people",
    "view.export",
}


def quiet(line: str) -> None:
    pass


@pytest.mark.django_db
def test_the_benchmark_generates_the_firm_measures_every_case_and_reports_it(tmp_path):
    plan = TrainingPlan.tiny()

    result = run_training_benchmark(plan=plan, output_dir=tmp_path, log=quiet)

    data, measured = result["data"], result["measurements"]
    assert (data["people"], data["courses"]) == (30, 3)
    assert data["assignments"] == 30 * 4 == Assignment.objects.current().count()
    assert data["lapsed"] > 0 and data["due_soon"] > 0 and data["unsigned"] > 0
    assert set(measured) == CASES
    for name in CASES - {"view.export"}:
        assert measured[name]["n"] == plan.rounds, name
        assert 0 < measured[name]["p50_ms"] <= measured[name]["p95_ms"], name
        assert measured[name]["statements"] >= 1, name
    assert measured["view.export"]["n"] == plan.export_rounds
    assert measured["view.export"]["peak_rss_growth_kib"] >= 0
    assert measured["view.dashboard"]["headline"]["lapsed"] == data["lapsed"]
    assert [check["check"] for check in result["checks"] if not check["passed"]] == []
    # Every export (the warm-up's too) was audited, as in production.
    assert AuditEvent.objects.filter(action=AuditAction.TRAINING_EXPORT).count() == 1 + plan.export_rounds + 1

    written = json.loads(Path(result["json_path"]).read_text(encoding="utf-8"))
    assert Path(result["json_path"]).parent == tmp_path
    assert written["checks"] == result["checks"]


@pytest.mark.django_db
def test_a_second_run_reuses_the_people_and_makes_the_records_anew(tmp_path):
    plan = TrainingPlan.tiny()
    run_training_benchmark(plan=plan, output_dir=tmp_path, log=quiet)

    result = run_training_benchmark(plan=plan, output_dir=tmp_path, log=quiet)

    assert all(check["passed"] for check in result["checks"])
    assert Assignment.objects.count() == 30 * 4


def test_a_plan_that_cannot_be_generated_is_refused_with_a_reason():
    with pytest.raises(BenchSetupError, match="at least 10 people"):
        TrainingPlan(people=5).check()
