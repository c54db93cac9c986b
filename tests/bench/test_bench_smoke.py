"""The benchmark works end to end: it generates, measures everything it reports, and writes its JSON.

A tiny scale in the test database, to prove the machinery only; the numbers
themselves mean nothing here (see bench/README.md for the real run).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission

from access.models import GrantLevel, MatterGroupGrant, MatterUserGrant
from bench.audit import TARGETS as AUDIT_TARGETS
from bench.audit import AuditPlan, run_audit_benchmark
from bench.generate import BenchSetupError, Plan, fill, postgres_config
from bench.run import run_benchmark
from matters.models import Matter

MEASUREMENTS = (
    {
        f"{system}.{what}.{who}{search}"
        for system in ("custos", "guardian")
        for what in ("list", "count")
        for who in ("typical", "low")
        for search in ("", ".search")
    }
    | {f"{system}.count_sql.{who}" for system in ("custos", "guardian") for who in ("typical", "low")}
    | {
        "custos.detail.typical",
        "view.list.typical",
        "view.list.typical.search",
        "view.list.low",
        "view.detail.typical",
    }
)


@pytest.fixture
def tiny_firm(db):
    plan = Plan.for_scale(0.001)
    fill(plan, log=lambda line: None)
    return plan


@pytest.mark.postgres
def test_the_generator_fills_the_plan_with_real_permissions(tiny_firm):
    plan = tiny_firm
    assert Matter.objects.count() == plan.matters
    assert MatterUserGrant.objects.count() == plan.users * plan.grants_per_user + plan.low_selectivity_direct
    assert MatterGroupGrant.objects.count() == plan.groups * plan.grants_per_group + plan.low_selectivity_via_team
    used = set(MatterUserGrant.objects.values_list("permission__codename", flat=True).distinct())
    assert used <= set(GrantLevel.values)
    assert Permission.objects.filter(codename__in=used, content_type__app_label="matters").count() == len(used)
    assert Group.objects.filter(name__startswith="bench-team-", user__isnull=False).exists()


@pytest.mark.postgres
def test_the_runner_measures_everything_and_writes_its_json(tiny_firm, tmp_path):
    result = run_benchmark(iterations=2, warmup=0, output_dir=tmp_path, plan=tiny_firm, log=lambda line: None)

    assert set(result["measurements"]) == MEASUREMENTS
    for name, summary in result["measurements"].items():
        assert summary["n"] == 2, name
        assert 0 < summary["p50_ms"] <= summary["p95_ms"], name
    assert {"ratio.list.typical", "ratio.count.typical", "ratio.list.low"} <= set(result["ratios"])
    assert [target["measurement"] for target in result["targets"]] == [
        "custos.list.typical",
        "ratio.list.typical",
        "custos.count.typical",
        "custos.list.low",
    ]
    assert result["data"]["low_selectivity_share_pct"] <= 0.5
    assert "Execution Time" in result["explain"]["custos.list.typical"][0]["plan"]
    assert "Execution Time" in result["explain"]["custos.count.typical"][0]["plan"]

    written = json.loads(Path(result["json_path"]).read_text(encoding="utf-8"))
    assert Path(result["json_path"]).parent == tmp_path
    assert written["measurements"] == result["measurements"]
    assert written["targets"] == result["targets"]


@pytest.mark.postgres
def test_the_generator_refuses_a_database_that_already_holds_matters(tiny_firm):
    with pytest.raises(BenchSetupError, match="already holds matters"):
        fill(tiny_firm, log=lambda line: None)


def test_sqlite_is_refused_with_a_reason():
    with pytest.raises(BenchSetupError, match="needs PostgreSQL"):
        postgres_config("sqlite:///var/custos.sqlite3")


# --- The audit benchmark (bench/audit.py) -----------------------------------------------

AUDIT_MEASUREMENTS = {
    "generate",
    "chain.initial",
    "verify",
    "read.person",
    "read.matter",
    "request",
    "request.cost",
    "ingest",
    "sequencer.batch_100",
    "sequencer.batch_500",
    "sequencer",
    "lag",
}


# Writer threads and the sequencer commit on their own connections; ids start at 1, as in
# the benchmark's fresh database (else the sequencer waits out the grace for a gap below them).
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_audit_benchmark_measures_everything_and_writes_its_json(tmp_path, settings):
    settings.AUDIT_GAP_GRACE_SECONDS = 1
    plan = AuditPlan.tiny()
    result = run_audit_benchmark(plan=plan, output_dir=tmp_path, log=lambda line: None)

    measured = result["measurements"]
    assert set(measured) == AUDIT_MEASUREMENTS
    # The generated records are the shape record_event writes: the whole trail verifies.
    assert (measured["verify"]["status"], measured["verify"]["problems"]) == ("passed", 0), measured["verify"]
    assert measured["chain.initial"]["events"] >= plan.events
    for name in ("read.person", "read.matter"):
        assert measured[name]["n"] == plan.read_picks
    # Auditing on writes the page's event; off writes none — else the comparison measures nothing.
    request = measured["request"]
    assert request["events_per_request"]["a"] >= 1
    assert request["events_per_request"]["b"] == 0
    assert request["request.audited"]["n"] == request["request.unaudited"]["n"] == plan.request_pairs
    assert measured["ingest"]["events"] > 0
    assert measured["ingest"]["writers"] == plan.writers
    for batch in plan.batch_sizes:
        assert measured[f"sequencer.batch_{batch}"]["events"] == plan.backlog
    assert measured["lag"]["unchained_after"] == 0
    assert measured["lag"]["lag"]["n"] == measured["lag"]["writers"]["events"]
    assert [target["measurement"] for target in result["targets"]] == [target[1] for target in AUDIT_TARGETS]
    assert "audit_event" in result["explain"]["read.person"]

    written = json.loads(Path(result["json_path"]).read_text(encoding="utf-8"))
    assert Path(result["json_path"]).parent == tmp_path
    assert written["targets"] == result["targets"]
