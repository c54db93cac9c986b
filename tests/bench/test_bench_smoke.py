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
