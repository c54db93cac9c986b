"""The walls benchmark works end to end: it generates, erects the walls, measures with and without, checks, writes.

A tiny plan (300 matters, 40 live walls, 10 lifted) in the test database, SQLite
or PostgreSQL, to prove the machinery only; the timings mean nothing here (see
bench/README.md, "Walls", for the real run).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from access.models import EthicalWall, MatterUserGrant, WallKind
from bench.generate import BenchSetupError
from bench.walls import LABELS, TARGETS, WallsPlan, run_walls_benchmark


def quiet(line: str) -> None:
    pass


@pytest.mark.django_db
def test_the_benchmark_measures_with_and_without_walls_and_checks_the_answers(tmp_path):
    plan = WallsPlan.tiny()

    result = run_walls_benchmark(plan=plan, output_dir=tmp_path, log=quiet)

    assert [check["check"] for check in result["checks"] if not check["passed"]] == []
    for phase in ("none", "walls"):
        assert set(result["measurements"][phase]) == set(LABELS), phase
        for name, row in result["measurements"][phase].items():
            assert row["n"] == plan.rounds and row["statements"] >= 1, (phase, name)
    walls = result["measurements"]["walls"]
    assert walls["can.walled.screened"]["answers"] == [False]
    assert walls["can.walled.allowed"]["answers"] == [True]
    assert result["correctness"]["walled"]["screen"] != [0, 0]
    assert [target["measurement"] for target in result["targets"]] == [name for _label, name, _limit in TARGETS]

    # The report is what the database holds.
    assert result["data"]["live_walls"] == EthicalWall.objects.live().count() == plan.walls
    assert EthicalWall.objects.filter(lifted_at__isnull=False).count() == plan.lifted
    live_exclusionary = EthicalWall.objects.live().filter(kind=WallKind.EXCLUSIONARY).count()
    assert live_exclusionary == round(plan.walls * plan.exclusionary_share)
    assert MatterUserGrant.objects.count() == plan.grants
    written = json.loads(Path(result["json_path"]).read_text(encoding="utf-8"))
    assert Path(result["json_path"]).parent == tmp_path
    assert written["checks"] == result["checks"]


@pytest.mark.django_db
def test_a_second_run_reuses_the_firm_and_erects_the_walls_anew(tmp_path):
    plan = WallsPlan.tiny()
    run_walls_benchmark(plan=plan, output_dir=tmp_path, log=quiet)

    result = run_walls_benchmark(plan=plan, output_dir=tmp_path, log=quiet)

    assert all(check["passed"] for check in result["checks"])
    assert EthicalWall.objects.count() == plan.walls + plan.lifted
    assert MatterUserGrant.objects.count() == plan.grants


def test_a_plan_that_cannot_be_generated_is_refused_with_a_reason():
    with pytest.raises(BenchSetupError, match="do not fit"):
        WallsPlan(grants=100_000, users=10, matters=100, heavy_grants=20).check()
