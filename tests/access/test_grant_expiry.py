"""Grants that end on time, the daily job that tidies up after them, and revocation.

A grant stops authorizing at its end to the microsecond, whatever the job has done;
the job (access.expire_grants) removes the rows with an event each, warns holders a
week ahead once, and lets undecided requests lapse. Time is controlled throughout.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from access import expiry
from access.access_requests import approve_access_request, request_access
from access.expiry import expire_grants
from access.models import (
    AccessRequest,
    GrantLevel,
    MatterGroupGrant,
    MatterUserGrant,
    Notification,
    NotificationKind,
    RequestStatus,
)
from access.policy import Action, can
from access.services import REVOKED_BY_MANAGER, revoke_matter_access, revoke_team_grant
from audit.actions import AuditAction
from audit.models import AuditEvent
from jobs.models import JobOutcome, JobRun
from jobs.services import run_job
from tests.access.test_sign_in import T0
from tests.conftest import signed_in
from tests.factories import MatterFactory, grant

TODAY = date(2026, 3, 2)  # T0 in Asia/Shanghai
MATTERS = reverse("matters:list")
REASON = "Acme asked us to shrink the team"
TICK = timedelta(microseconds=1)


def midnight_after(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


# Access "until 5 March" ends at the first instant of 6 March, local time.
END = midnight_after(date(2026, 3, 5))


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def team(charlie):
    team = Group.objects.create(name="Project Falcon team")
    charlie.groups.add(team)
    return team


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def new_events(since: int, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, pk__gt=since).order_by("id"))


# --- the boundary ---------------------------------------------------------------------------------


def test_a_grant_authorizes_until_its_last_microsecond_before_any_job(client, charlie, matter, clock):
    grant(charlie, matter, GrantLevel.DOWNLOAD, expires_at=END)
    clock.move_to(END - TICK)
    signed_in(client, charlie)

    assert can(charlie, Action.DOWNLOAD, matter)
    assertContains(client.get(matter.get_absolute_url()), matter.title)
    assertContains(client.get(MATTERS), matter.number)

    clock.move_to(END)

    assert not can(charlie, Action.VIEW, matter)
    assert client.get(matter.get_absolute_url()).status_code == 404
    assertNotContains(client.get(MATTERS), matter.number)
    assert MatterUserGrant.objects.filter(user=charlie, content_object=matter).exists()  # no job has run


def test_a_teams_grant_ends_for_its_members_at_the_same_instant(client, charlie, matter, team, clock):
    grant(team, matter, GrantLevel.VIEW, expires_at=END)
    clock.move_to(END - TICK)
    signed_in(client, charlie)
    assert client.get(matter.get_absolute_url()).status_code == 200

    clock.move_to(END)

    assert not can(charlie, Action.VIEW, matter)
    assert client.get(matter.get_absolute_url()).status_code == 404


def test_the_job_removes_what_has_ended_with_an_event_each(charlie, bob, matter, team, clock):
    other = MatterFactory()
    mine = grant(charlie, matter, GrantLevel.DOWNLOAD, expires_at=END)
    ours = grant(team, other, GrantLevel.VIEW, expires_at=END)
    later = grant(charlie, other, GrantLevel.VIEW, expires_at=END + timedelta(days=30))
    since = last_event_id()

    clock.move_to(END - TICK)
    assert expire_grants()["expired"] == 0
    assert MatterUserGrant.objects.filter(pk=mine.pk).exists()

    clock.move_to(END)
    counts = expire_grants()

    assert counts == {"expired": 2, "warned": 0, "lapsed": 0}
    assert not MatterUserGrant.objects.filter(pk=mine.pk).exists()
    assert not MatterGroupGrant.objects.filter(pk=ours.pk).exists()
    assert MatterUserGrant.objects.filter(pk=later.pk).exists()
    assert MatterUserGrant.objects.filter(user=bob, content_object=matter).exists()  # no end: stays
    expired = new_events(since, AuditAction.GRANT_EXPIRE)
    records = sorted((event.record for event in expired), key=lambda record: record["detail"]["grantee"])
    assert [(r["matter_number"], r["detail"]["grantee"]) for r in records] == [
        (other.number, "group"),
        (matter.number, "user"),
    ]
    group_record, user_record = records
    assert group_record["detail"]["group"] == team.name
    assert group_record["detail"]["level"] == GrantLevel.VIEW
    assert user_record["detail"]["user"] == "charlie"
    assert user_record["detail"]["level"] == GrantLevel.DOWNLOAD
    assert datetime.fromisoformat(user_record["detail"]["expires_at"]) == END
    assert user_record["client_code"] == matter.client.code
    assert {r["actor_id"] for r in records} == {None}
    assert {r["reason"] for r in records} == {"expired"}
    assert {event.matter_id for event in expired} == {matter.pk, other.pk}

    assert expire_grants() == {"expired": 0, "warned": 0, "lapsed": 0}
    assert len(new_events(since, AuditAction.GRANT_EXPIRE)) == 2


def test_the_recorded_job_reports_its_counts(charlie, matter, clock):
    grant(charlie, matter, GrantLevel.VIEW, expires_at=END)
    clock.move_to(END)

    run = run_job("access.expire_grants")

    assert run.outcome == JobOutcome.SUCCEEDED
    assert run.counts == {"expired": 1, "warned": 0, "lapsed": 0}
    assert JobRun.objects.get(job="access.expire_grants") == run
    assert not MatterUserGrant.objects.filter(user=charlie).exists()


# --- warnings -----------------------------------------------------------------------------------


def test_a_holder_is_warned_once_a_week_ahead(charlie, matter, clock, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://custos.example.com"
    other = MatterFactory()
    grant(charlie, matter, GrantLevel.DOWNLOAD, expires_at=midnight_after(TODAY + timedelta(days=6)))
    grant(charlie, other, GrantLevel.VIEW, expires_at=midnight_after(TODAY + timedelta(days=8)))

    with django_capture_on_commit_callbacks(execute=True):
        assert expire_grants()["warned"] == 1
    clock.move_to(T0 + timedelta(hours=20))
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_grants()["warned"] == 0

    [warning] = Notification.objects.filter(kind=NotificationKind.GRANT_EXPIRING)
    assert warning.recipient == charlie
    assert warning.params == {"number": matter.number, "level": GrantLevel.DOWNLOAD.value, "until": "2026-03-08"}
    assert warning.url == f"{reverse('access:request_new')}?number={matter.number}"
    [sent] = mail.outbox
    assert sent.to == [charlie.email]
    assert matter.number in sent.body
    assert f"https://custos.example.com/access/requests/new/?number={matter.number}" in sent.body
    assert other.number not in sent.body


def test_a_teams_ending_grant_is_announced_to_the_matters_partner_once(alice, charlie, team, matter, clock):
    grant(team, matter, GrantLevel.DOWNLOAD, expires_at=midnight_after(TODAY + timedelta(days=4)))
    orphan = MatterFactory(responsible_partner=None)
    grant(team, orphan, GrantLevel.VIEW, expires_at=midnight_after(TODAY + timedelta(days=4)))

    assert expire_grants()["warned"] == 2
    assert expire_grants()["warned"] == 0

    # Alice, who can extend it on the team page, is told; the team's members are not
    # (they cannot renew a team's grant), and a matter without a partner tells nobody.
    [warning] = Notification.objects.filter(kind=NotificationKind.TEAM_GRANT_EXPIRING)
    assert warning.recipient == alice
    assert warning.params == {
        "number": matter.number,
        "level": GrantLevel.DOWNLOAD.value,
        "until": "2026-03-06",
        "team": team.name,
    }
    assert warning.url == reverse("access:team", args=[matter.pk])
    assert not charlie.notifications.exists()


def test_the_later_grant_is_warned_when_its_week_comes(charlie, matter, clock):
    other = MatterFactory()
    grant(charlie, other, GrantLevel.VIEW, expires_at=midnight_after(TODAY + timedelta(days=8)))
    assert expire_grants()["warned"] == 0

    clock.move_to(T0 + timedelta(days=2))

    assert expire_grants()["warned"] == 1
    assert Notification.objects.get(kind=NotificationKind.GRANT_EXPIRING).params["number"] == other.number


def test_a_renewal_is_warned_again_before_its_new_end(alice, charlie, matter, clock):
    grant(charlie, matter, GrantLevel.VIEW, expires_at=midnight_after(TODAY + timedelta(days=3)))
    expire_grants()
    renewal = request_access(
        actor=charlie, number=matter.number, level=GrantLevel.VIEW, reason="still on it", ends_on=TODAY + timedelta(60)
    )
    approve_access_request(actor=alice, access_request=renewal)
    assert MatterUserGrant.objects.get(user=charlie, content_object=matter).expiry_warned_at is None

    assert expire_grants()["warned"] == 0
    clock.move_to(T0 + timedelta(days=55))
    assert expire_grants()["warned"] == 1
    assert expire_grants()["warned"] == 0

    untils = Notification.objects.filter(kind=NotificationKind.GRANT_EXPIRING).order_by("id")
    assert [n.params["until"] for n in untils] == ["2026-03-05", "2026-05-01"]


def test_an_inactive_holder_is_not_told(charlie, matter):
    grant(charlie, matter, GrantLevel.VIEW, expires_at=midnight_after(TODAY + timedelta(days=3)))
    charlie.is_active = False
    charlie.save(update_fields=["is_active"])

    expire_grants()

    assert not Notification.objects.filter(kind=NotificationKind.GRANT_EXPIRING).exists()


# --- lapsing --------------------------------------------------------------------------------------


def _ask(user, number) -> AccessRequest:
    return request_access(
        actor=user, number=number, level=GrantLevel.VIEW, reason="Acme work", ends_on=TODAY + timedelta(days=20)
    )


def test_a_request_nobody_decided_in_two_weeks_lapses(charlie, bob, matter, clock, django_capture_on_commit_callbacks):
    old = _ask(charlie, matter.number)
    clock.move_to(T0 + timedelta(days=1))
    newer = _ask(bob, "2026-X-99999")
    since = last_event_id()

    clock.move_to(T0 + timedelta(days=14) - TICK)
    assert expire_grants()["lapsed"] == 0
    clock.move_to(T0 + timedelta(days=14, seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_grants()["lapsed"] == 1

    old.refresh_from_db()
    newer.refresh_from_db()
    assert old.status == RequestStatus.LAPSED
    assert old.decided_by is None
    assert newer.status == RequestStatus.PENDING
    [lapse] = new_events(since, AuditAction.ACCESS_LAPSE)
    assert lapse.record["detail"]["request_id"] == str(old.pk)
    assert lapse.record["actor_id"] is None
    assert "Acme" not in bytes(lapse.payload).decode()
    [told] = Notification.objects.filter(kind=NotificationKind.REQUEST_LAPSED)
    assert told.recipient == charlie
    assert told.url == reverse("access:my_requests")
    assert [m.to for m in mail.outbox] == [[charlie.email]]
    assert expire_grants()["lapsed"] == 0
    # Lapsed is decided: Charlie may ask again.
    assert _ask(charlie, matter.number).status == RequestStatus.PENDING


def test_a_request_decided_while_the_job_runs_keeps_its_decision(monkeypatch, alice, charlie, matter, clock):
    # The job listed the request as pending; the partner denies it before the job
    # gets to it. The decision must stand: the job re-reads each request under a lock.
    stale = _ask(charlie, matter.number)
    clock.move_to(T0 + timedelta(days=15))
    real_lock = expiry._lock

    def decided_meanwhile(queryset):
        if queryset.model is AccessRequest:
            AccessRequest.objects.filter(pk=stale.pk).update(
                status=RequestStatus.DENIED, decided_by=alice, decided_at=timezone.now()
            )
        return real_lock(queryset)

    monkeypatch.setattr(expiry, "_lock", decided_meanwhile)

    assert expire_grants()["lapsed"] == 0

    stale.refresh_from_db()
    assert stale.status == RequestStatus.DENIED
    assert stale.decided_by == alice
    assert not Notification.objects.filter(kind=NotificationKind.REQUEST_LAPSED).exists()


# --- revocation -----------------------------------------------------------------------------------


def test_the_partners_revocation_takes_effect_on_the_next_request(client, alice, bob, matter):
    signed_in(client, bob)
    assertContains(client.get(matter.get_absolute_url()), matter.title)
    since = last_event_id()

    revoke_team_grant(actor=alice, grant=MatterUserGrant.objects.get(user=bob, content_object=matter), reason=REASON)

    assert client.get(matter.get_absolute_url()).status_code == 404
    assertNotContains(client.get(MATTERS), matter.number)
    [told] = Notification.objects.filter(kind=NotificationKind.GRANT_REVOKED)
    assert told.recipient == bob
    assert told.params == {"number": matter.number, "reason": REASON}
    [event] = new_events(since, AuditAction.GRANT_REVOKE)
    assert event.record["actor"] == "alice"
    assert event.record["reason"] == REVOKED_BY_MANAGER
    assert "Acme" not in bytes(event.payload).decode()


def test_revoking_a_teams_grant_takes_effect_for_every_member(client, alice, charlie, matter, team):
    team_grant = grant(team, matter, GrantLevel.VIEW)
    signed_in(client, charlie)
    assert client.get(matter.get_absolute_url()).status_code == 200

    revoke_team_grant(actor=alice, grant=team_grant, reason=REASON)

    assert client.get(matter.get_absolute_url()).status_code == 404
    assert Notification.objects.get(kind=NotificationKind.GRANT_REVOKED).recipient == charlie


def test_an_administrators_revocation_takes_effect_on_the_next_request(client, adam, bob, matter):
    signed_in(client, bob)
    assert client.get(matter.get_absolute_url()).status_code == 200

    revoke_matter_access(actor=adam, grant=MatterUserGrant.objects.get(user=bob, content_object=matter))

    assert client.get(matter.get_absolute_url()).status_code == 404


def test_only_the_manager_revokes_with_a_reason_and_not_their_own(alice, bob, charlie, matter):
    bobs = MatterUserGrant.objects.get(user=bob, content_object=matter)
    alices = MatterUserGrant.objects.get(user=alice, content_object=matter)

    with pytest.raises(PermissionDenied):
        revoke_team_grant(actor=charlie, grant=bobs, reason=REASON)
    with pytest.raises(PermissionDenied):
        revoke_team_grant(actor=bob, grant=bobs, reason=REASON)  # viewing is not managing
    with pytest.raises(ValidationError) as excinfo:
        revoke_team_grant(actor=alice, grant=bobs, reason="   ")
    assert "reason" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        revoke_team_grant(actor=alice, grant=alices, reason=REASON)

    assert can(bob, Action.VIEW, matter)
    assert can(alice, Action.MANAGE, matter)
    assert not Notification.objects.filter(kind=NotificationKind.GRANT_REVOKED).exists()
