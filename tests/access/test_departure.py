"""A person leaving the firm: access until the day before the departure date, nothing from its first instant.

The policy refuses from the start of the departure date (local time) before any job
runs; the job that day revokes every grant, removes team memberships, ends sessions,
deactivates the account, and tells the manager and HR what was revoked.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertRedirects

from access.access_requests import pending_for, request_access
from access.models import (
    EmploymentStatus,
    GrantLevel,
    MatterGroupGrant,
    MatterUserGrant,
    Notification,
    NotificationKind,
    RequestStatus,
    Role,
    User,
    UserSession,
)
from access.policy import Action, can
from access.services import DEPARTED, end_access_of_departed_users
from audit.actions import AuditAction
from audit.models import AuditEvent
from jobs.services import run_job
from tests.access.test_sign_in import SIGN_IN, T0, sign_in, with_next
from tests.factories import PASSWORD, MatterFactory, UserFactory, grant

JOB = "access.end_departed_access"
LEAVING_ON = date(2026, 3, 4)
# The first instant of the departure date, in the firm's time zone.
DEPARTURE = timezone.make_aware(datetime.combine(LEAVING_ON, time.min))
TICK = timedelta(microseconds=1)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def team():
    return Group.objects.create(name="Project Falcon team")


@pytest.fixture
def hr(db):
    """Two HR people, and one who has already left (told nothing)."""
    people = [UserFactory(username=name, roles=(Role.HR,)) for name in ("hana", "harry")]
    UserFactory(username="hilda", roles=(Role.HR,), is_active=False)
    return people


@pytest.fixture
def leaver(bob, alice, matter, team, clock):
    """Bob, Alice's report, leaving on 4 March: view on ``matter``, edit on another, and a team with its grant."""
    bob.manager = alice
    bob.employment_status = EmploymentStatus.DEPARTING
    bob.departure_date = LEAVING_ON
    bob.save(update_fields=["manager", "employment_status", "departure_date"])
    grant(bob, MatterFactory(number="2026-D-00002"), GrantLevel.EDIT)
    bob.groups.add(team)
    grant(team, MatterFactory(), GrantLevel.VIEW)
    return bob


def test_a_leaver_has_access_until_the_end_of_the_day_before(leaver, matter, clock):
    clock.move_to(DEPARTURE - timedelta(minutes=10))
    browser = Client()
    sign_in(browser, leaver)
    clock.move_to(DEPARTURE - TICK)

    assert can(leaver, Action.VIEW, matter)
    assertContains(browser.get(matter.get_absolute_url()), matter.title)

    clock.move_to(DEPARTURE)

    assert not can(leaver, Action.VIEW, matter)
    assert MatterUserGrant.objects.filter(user=leaver).count() == 2  # no job has run yet
    # The open browser is signed out on its next request.
    page = matter.get_absolute_url()
    assertRedirects(browser.get(page), with_next(SIGN_IN, page), fetch_redirect_response=False)


def test_the_job_the_day_before_leaves_everything_in_place(leaver, clock):
    clock.move_to(DEPARTURE - TICK)

    run = run_job(JOB)

    assert run.counts == {"users": 0, "grants": 0, "groups": 0, "sessions": 0}
    leaver.refresh_from_db()
    assert leaver.is_active
    assert leaver.employment_status == EmploymentStatus.DEPARTING
    assert MatterUserGrant.objects.filter(user=leaver).count() == 2
    assert not Notification.objects.exists()


def test_on_the_departure_date_the_job_ends_everything_and_tells_manager_and_hr(
    leaver, alice, charlie, hr, team, matter, clock, django_capture_on_commit_callbacks
):
    browser = Client()
    sign_in(browser, leaver)
    grant(charlie, matter, GrantLevel.VIEW)
    since = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    clock.move_to(DEPARTURE + timedelta(minutes=10))

    with django_capture_on_commit_callbacks(execute=True):
        run = run_job(JOB)

    assert run.counts == {"users": 1, "grants": 2, "groups": 1, "sessions": 1}
    leaver.refresh_from_db()
    assert leaver.employment_status == EmploymentStatus.DEPARTED
    assert not leaver.is_active
    assert not MatterUserGrant.objects.filter(user=leaver).exists()
    assert list(leaver.groups.values_list("name", flat=True)) == [Role.LAWYER.value]  # the role stays
    assert MatterGroupGrant.objects.filter(group=team).exists()  # the team keeps its grant
    assert not UserSession.objects.filter(user=leaver).exists()
    assert MatterUserGrant.objects.filter(user=charlie, content_object=matter).exists()
    assert User.objects.get(pk=charlie.pk).is_active

    revoked = AuditEvent.objects.filter(action=AuditAction.GRANT_REVOKE, pk__gt=since).order_by("id")
    records = [event.record for event in revoked]
    assert sorted(r["matter_number"] for r in records) == sorted(["2026-D-00002", matter.number])
    assert {(r["reason"], r["actor_id"], r["detail"]["user"]) for r in records} == {(DEPARTED, None, "bob")}

    told = Notification.objects.filter(kind=NotificationKind.DEPARTURE).order_by("recipient__username")
    assert [n.recipient.username for n in told] == ["alice", "hana", "harry"]
    for notification in told:
        assert notification.params["username"] == "bob"
        assert notification.params["count"] == 2
        assert notification.params["grants"] == sorted(
            [
                {"number": "2026-D-00002", "level": GrantLevel.EDIT.value, "classification": 30},
                {"number": matter.number, "level": GrantLevel.VIEW.value, "classification": 30},
            ],
            key=lambda item: item["number"],
        )
        assert notification.params["groups"] == [team.name]
        assert notification.params["sessions"] == 1
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(
        [alice.email, *(person.email for person in hr)]
    )
    assert all(str(leaver) in message.body for message in mail.outbox)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = run_job(JOB)
    assert again.counts == {"users": 0, "grants": 0, "groups": 0, "sessions": 0}
    assert Notification.objects.filter(kind=NotificationKind.DEPARTURE).count() == 3
    assert not mail.outbox


def test_a_leaver_without_a_manager_is_reported_to_hr(leaver, hr, clock):
    leaver.manager = None
    leaver.save(update_fields=["manager"])
    clock.move_to(DEPARTURE)

    run_job(JOB)

    recipients = Notification.objects.filter(kind=NotificationKind.DEPARTURE).values_list("recipient__username")
    assert sorted(name for (name,) in recipients) == ["hana", "harry"]


def test_a_departing_person_needs_a_departure_date(charlie):
    charlie.employment_status = EmploymentStatus.DEPARTING

    with pytest.raises(ValidationError) as excinfo:
        charlie.full_clean()

    assert "departure_date" in excinfo.value.message_dict
    charlie.departure_date = LEAVING_ON
    charlie.full_clean()


def test_the_departed_cannot_sign_in_again(leaver, clock):
    clock.move_to(DEPARTURE)
    run_job(JOB)

    browser = Client()
    response = browser.post(reverse("access:login"), {"username": "bob", "password": PASSWORD})

    assert response.status_code == 200
    assert "_auth_user_id" not in browser.session


def test_a_departed_persons_pending_requests_leave_the_queues(alice, charlie, matter):
    pending = request_access(
        actor=charlie,
        number=matter.number,
        level=GrantLevel.VIEW,
        reason="Cover",
        ends_on=timezone.localdate() + timedelta(days=5),
    )
    assert list(pending_for(alice)) == [pending]
    charlie.employment_status = EmploymentStatus.DEPARTED
    charlie.save(update_fields=["employment_status"])

    end_access_of_departed_users()

    pending.refresh_from_db()
    assert pending.status == RequestStatus.LAPSED
    assert list(pending_for(alice)) == []
    [event] = AuditEvent.objects.filter(action=AuditAction.ACCESS_LAPSE)
    assert event.record["detail"]["cause"] == "departed"
