"""The grant-expiry benchmark works end to end: it removes what ended, warns, reports and writes its JSON.

A tiny plan (500 person grants, 50 ended, 25 ending within the week) in the test
database, SQLite or PostgreSQL, to prove the machinery only; the timings mean
nothing here (see bench/README.md, "Grants", for the real run).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from access.models import MatterGroupGrant, MatterUserGrant, Notification, NotificationKind
from audit.actions import AuditAction
from audit.models import AuditEvent
from bench.generate import BenchSetupError
from bench.grants import GrantsPlan, run_grants_benchmark


def quiet(line: str) -> None:
    pass


# The job commits batch by batch and sends its e-mails on commit, as in production.
@pytest.mark.django_db(transaction=True)
def test_the_benchmark_expires_the_ended_grants_warns_the_holders_and_reports_it(tmp_path):
    plan = GrantsPlan.tiny()

    result = run_grants_benchmark(plan=plan, output_dir=tmp_path, log=quiet)

    data, measured = result["data"], result["measurements"]
    assert (data["person_grants"], data["expired"], data["expiring"]) == (500, 50, 25)
    first = measured["first_run"]
    assert first["outcome"] == {"expired": 50, "warned": 25, "lapsed": 0}
    assert first["events_written"] == 50
    assert first["notifications_written"] == first["emails_sent"] == 25
    assert first["phases"]["remove.matterusergrant"]["rows"] == 50
    assert first["phases"]["_warn_holders"]["rows"] == 25
    assert first["statements"] > 0 and first["seconds"] > 0 and first["peak_rss_growth_kib"] >= 0
    second = measured["second_run"]
    assert second["outcome"] == {"expired": 0, "warned": 0, "lapsed": 0}
    assert second["events_written"] == second["notifications_written"] == second["emails_sent"] == 0
    for when in ("before", "after"):
        assert measured["decisions"][when]["live"]["allowed"] == [True], when
        assert measured["decisions"][when]["expired"]["allowed"] == [False], when
        assert measured["decisions"][when]["live"]["n"] == plan.decisions
    assert [check["check"] for check in result["checks"] if not check["passed"]] == []

    # The report is what the database holds.
    assert AuditEvent.objects.filter(action=AuditAction.GRANT_EXPIRE).count() == 50
    assert MatterUserGrant.objects.count() == 450
    assert MatterGroupGrant.objects.count() == plan.group_grants
    assert Notification.objects.filter(kind=NotificationKind.GRANT_EXPIRING).count() == 25
    written = json.loads(Path(result["json_path"]).read_text(encoding="utf-8"))
    assert Path(result["json_path"]).parent == tmp_path
    assert written["checks"] == result["checks"]


@pytest.mark.django_db(transaction=True)
def test_a_second_benchmark_run_reuses_people_and_matters_and_makes_the_grants_anew(tmp_path):
    plan = GrantsPlan.tiny()
    run_grants_benchmark(plan=plan, output_dir=tmp_path, log=quiet)

    result = run_grants_benchmark(plan=plan, output_dir=tmp_path, log=quiet)

    assert result["measurements"]["first_run"]["outcome"]["expired"] == 50
    assert result["measurements"]["first_run"]["events_written"] == 50
    assert all(check["passed"] for check in result["checks"])
    assert MatterUserGrant.objects.count() == 450
    assert Notification.objects.filter(kind=NotificationKind.GRANT_EXPIRING).count() == 25


def test_a_plan_that_cannot_be_generated_is_refused_with_a_reason():
    with pytest.raises(BenchSetupError, match="do not fit"):
        GrantsPlan(grants=10_000, expired=10, expiring=10, users=2, matters=100, heavy_grants=50).check()
