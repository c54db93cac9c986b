"""The periodic job that ends the access of people who have left the firm."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertRedirects

from access.models import EmploymentStatus, GrantLevel, MatterGroupGrant, MatterUserGrant, Role, UserSession
from access.services import ensure_role_groups
from jobs import registry
from jobs.models import JobOutcome, JobRun
from jobs.services import UnknownJob, run_job
from jobs.tasks import run_periodic_job
from lawfirm.celery import app as celery_app
from tests.access.test_sign_in import SIGN_IN, T0, sign_in, with_next
from tests.factories import MatterFactory, grant

JOB = "access.end_departed_access"
MATTERS = reverse("matters:list")
# T0 is 2026-03-02 09:00 in Asia/Shanghai.
TODAY = date(2026, 3, 2)


def _explode():
    raise RuntimeError("client Acme's merger leaked into the message")


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def team():
    return Group.objects.create(name="Project Falcon team")


@pytest.fixture
def leaver(bob, alice, matter, team, clock):
    """Bob, signed in and working: two direct grants, a team with its own grant, the lawyer role."""
    grant(bob, MatterFactory(), GrantLevel.EDIT)
    bob.groups.add(team)
    grant(team, MatterFactory(), GrantLevel.VIEW)
    grant(alice, MatterFactory(), GrantLevel.VIEW)
    return bob


def depart(user, status=EmploymentStatus.DEPARTED, departure_date=None):
    user.employment_status = status
    user.departure_date = departure_date
    user.save(update_fields=["employment_status", "departure_date"])


def test_a_departed_persons_access_ends(leaver, alice, team, matter, clock):
    bobs_browser = Client()
    sign_in(bobs_browser, leaver)
    alices_browser = Client()
    sign_in(alices_browser, alice)
    depart(leaver)

    run = run_job(JOB)

    assert run.outcome == JobOutcome.SUCCEEDED
    assert run.counts == {"users": 1, "grants": 2, "groups": 1, "sessions": 1}
    assert run.finished_at is not None
    assert JobRun.objects.get() == run
    leaver.refresh_from_db()
    assert not leaver.is_active
    assert not MatterUserGrant.objects.filter(user=leaver).exists()
    assert set(leaver.groups.values_list("name", flat=True)) == {Role.LAWYER.value}  # the role stays
    assert MatterGroupGrant.objects.filter(group=team).exists()  # the team keeps its own grant
    assert not UserSession.objects.filter(user=leaver).exists()
    # Bob's open browser is bounced to sign-in on its next request…
    assertRedirects(bobs_browser.get(MATTERS), with_next(SIGN_IN, MATTERS), fetch_redirect_response=False)
    # …and he cannot sign in again.
    assert bobs_browser.post(SIGN_IN, {"username": "bob", "password": "x"}).status_code == 200
    assert "_auth_user_id" not in bobs_browser.session


def test_everyone_else_is_untouched(leaver, alice, charlie, matter, clock):
    alices_browser = Client()
    sign_in(alices_browser, alice)
    grants_before = set(MatterUserGrant.objects.exclude(user=leaver).values_list("pk", flat=True))
    depart(leaver)

    run_job(JOB)

    assert set(MatterUserGrant.objects.exclude(user=leaver).values_list("pk", flat=True)) == grants_before
    for person in (alice, charlie):
        person.refresh_from_db()
        assert person.is_active
        assert person.employment_status == EmploymentStatus.ACTIVE
    assert UserSession.objects.filter(user=alice).count() == 1
    assertContains(alices_browser.get(matter.get_absolute_url()), matter.title)


def test_a_departing_person_becomes_departed_once_the_date_has_passed(leaver, clock):
    depart(leaver, EmploymentStatus.DEPARTING, TODAY - timedelta(days=1))

    run = run_job(JOB)

    leaver.refresh_from_db()
    assert leaver.employment_status == EmploymentStatus.DEPARTED
    assert not leaver.is_active
    assert run.counts["users"] == 1
    assert not MatterUserGrant.objects.filter(user=leaver).exists()


def test_a_departing_person_keeps_access_until_the_date(leaver, matter, clock):
    depart(leaver, EmploymentStatus.DEPARTING, TODAY + timedelta(days=1))
    browser = Client()
    sign_in(browser, leaver)

    run = run_job(JOB)

    leaver.refresh_from_db()
    assert leaver.employment_status == EmploymentStatus.DEPARTING
    assert leaver.is_active
    assert run.counts == {"users": 0, "grants": 0, "groups": 0, "sessions": 0}
    assertContains(browser.get(matter.get_absolute_url()), matter.title)


def test_a_second_run_changes_nothing(leaver, clock):
    depart(leaver)
    run_job(JOB)

    again = run_job(JOB)

    assert again.outcome == JobOutcome.SUCCEEDED
    assert again.counts == {"users": 0, "grants": 0, "groups": 0, "sessions": 0}
    assert JobRun.objects.count() == 2


def test_team_memberships_end_even_if_the_account_was_already_disabled(leaver, team, clock):
    # An administrator switched the account off and removed the grants by hand before HR
    # recorded the departure: the team membership is what is left to clean up.
    leaver.is_active = False
    leaver.save(update_fields=["is_active"])
    MatterUserGrant.objects.filter(user=leaver).delete()
    depart(leaver)

    run = run_job(JOB)

    assert list(leaver.groups.values_list("name", flat=True)) == [Role.LAWYER.value]
    assert run.counts["groups"] == 1


def test_a_failure_is_recorded_and_raised(monkeypatch, leaver, clock):
    depart(leaver)
    monkeypatch.setitem(registry.PERIODIC_JOBS, JOB, f"{__name__}._explode")

    with pytest.raises(RuntimeError):
        run_job(JOB)

    run = JobRun.objects.get(job=JOB)
    assert run.outcome == JobOutcome.FAILED
    assert run.error == "RuntimeError"  # the class only: a message may carry client data
    assert run.finished_at is not None
    leaver.refresh_from_db()
    assert leaver.is_active  # nothing was done


def test_an_unknown_job_is_refused_without_a_record(db):
    with pytest.raises(UnknownJob):
        run_job("access.no_such_job")

    assert not JobRun.objects.exists()


def test_the_celery_task_runs_the_job(leaver, clock):
    # The test settings leave REDIS_URL unset (CI included), so .delay() runs in-process.
    assert celery_app.conf.task_always_eager
    depart(leaver)

    result = run_periodic_job.delay(JOB)

    run = JobRun.objects.get(pk=result.get())
    assert run.outcome == JobOutcome.SUCCEEDED
    assert run.counts["grants"] == 2
    leaver.refresh_from_db()
    assert not leaver.is_active


def test_the_management_command_runs_the_job(leaver, clock):
    depart(leaver)
    out = StringIO()

    call_command("run_job", JOB, stdout=out)

    assert "access.end_departed_access: succeeded" in out.getvalue()
    assert "'grants': 2" in out.getvalue()
    assert JobRun.objects.get().outcome == JobOutcome.SUCCEEDED
    assert not MatterUserGrant.objects.filter(user=leaver).exists()


def test_the_management_command_refuses_an_unknown_job(db):
    with pytest.raises(CommandError):
        call_command("run_job", "access.no_such_job")


def test_administrators_see_the_job_runs(leaver, adam, clock):
    ensure_role_groups()
    depart(leaver)
    run_job(JOB)
    admin = Client()
    sign_in(admin, adam)

    response = admin.get(reverse("admin:jobs_jobrun_changelist"))

    assertContains(response, JOB)
    assertContains(response, "Succeeded")
