"""Granting and revoking access are recorded in the grant's own transaction, without its free-text reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from access.models import EmploymentStatus, GrantLevel, MatterGroupGrant, MatterUserGrant
from access.services import end_access_of_departed_users, grant_matter_access, revoke_matter_access
from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from tests.audit.test_events_auth import assert_by, assert_from_browser, browser, events
from tests.audit.test_events_matters import assert_names_matter
from tests.conftest import signed_in
from tests.factories import MatterFactory, grant

REASON = "Covering the Acme Holdings merger while Bob is away"


@pytest.fixture
def before(matter):
    """Events from here on (the fixtures' own grants are recorded too)."""
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def new_events(before, action):
    return [event for event in events(action) if event.pk > before]


def test_a_grant_to_a_person_names_who_got_which_level_until_when(alice, charlie, matter, before):
    expires_at = timezone.now() + timedelta(days=7)

    grant_matter_access(
        actor=alice, matter=matter, level=GrantLevel.DOWNLOAD, reason=REASON, user=charlie, expires_at=expires_at
    )

    [event] = new_events(before, AuditAction.GRANT_CREATE)
    assert event.outcome == Outcome.SUCCESS
    assert_by(event, alice)
    assert_names_matter(event, matter)
    assert event.record["detail"] == {
        "grantee": "user",
        "user_id": charlie.pk,
        "user": "charlie",
        "level": GrantLevel.DOWNLOAD.value,
        "expires_at": expires_at.isoformat(),
        "replaced": False,
    }
    assert "Acme" not in bytes(event.payload).decode()  # the grant's reason may quote a client


def test_a_grant_to_a_group_names_the_group(alice, matter, before):
    team = Group.objects.create(name="Deal team")

    grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason=REASON, group=team)

    [event] = new_events(before, AuditAction.GRANT_CREATE)
    assert event.record["detail"] == {
        "grantee": "group",
        "group_id": team.pk,
        "group": "Deal team",
        "level": GrantLevel.VIEW.value,
        "expires_at": None,
        "replaced": False,
    }


def test_regranting_is_recorded_as_a_replacement(alice, bob, matter, before):
    grant_matter_access(actor=alice, matter=matter, level=GrantLevel.EDIT, reason=REASON, user=bob)

    [event] = new_events(before, AuditAction.GRANT_CREATE)
    assert event.record["detail"]["replaced"] is True
    assert event.record["detail"]["level"] == GrantLevel.EDIT.value


def test_a_refused_grant_records_nothing(alice, matter, before):
    with pytest.raises(ValidationError):
        grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason=REASON, user=alice)

    assert new_events(before, AuditAction.GRANT_CREATE) == []


def test_a_grant_rolled_back_leaves_no_event(alice, charlie, matter, before):
    """A change event lives in the change's transaction: no grant, no event."""
    with pytest.raises(RuntimeError), transaction.atomic():
        grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason=REASON, user=charlie)
        raise RuntimeError

    assert not MatterUserGrant.objects.filter(user=charlie).exists()
    assert new_events(before, AuditAction.GRANT_CREATE) == []


def test_a_revocation_names_whose_access_ended(adam, bob, matter, before):
    revoke_matter_access(actor=adam, grant=MatterUserGrant.objects.get(user=bob, content_object=matter))

    [event] = new_events(before, AuditAction.GRANT_REVOKE)
    assert event.outcome == Outcome.SUCCESS
    assert_by(event, adam)
    assert_names_matter(event, matter)
    assert event.record["detail"]["user"] == "bob"
    assert event.record["detail"]["level"] == GrantLevel.VIEW.value
    assert event.record["reason"] == ""


def test_a_group_revocation_names_the_group(adam, matter, before):
    team = Group.objects.create(name="Deal team")
    grant(team, matter)

    revoke_matter_access(actor=adam, grant=MatterGroupGrant.objects.get(group=team))

    [event] = new_events(before, AuditAction.GRANT_REVOKE)
    assert event.record["detail"]["group"] == "Deal team"


def test_grants_made_and_removed_in_the_admin_are_recorded_with_the_request(adam, charlie, matter, before):
    client = signed_in(browser(), adam)

    response = client.post(
        reverse("admin:access_matterusergrant_add"),
        {"user": charlie.pk, "content_object": matter.pk, "level": GrantLevel.VIEW, "reason": REASON},
    )
    assert response.status_code == 302
    created = MatterUserGrant.objects.get(user=charlie)
    client.post(reverse("admin:access_matterusergrant_delete", args=[created.pk]), {"post": "yes"})

    [made] = new_events(before, AuditAction.GRANT_CREATE)
    [removed] = new_events(before, AuditAction.GRANT_REVOKE)
    for event in (made, removed):
        assert_by(event, adam)
        assert_from_browser(event)
        assert event.session_ref
        assert_names_matter(event, matter)
        assert event.record["detail"]["user"] == "charlie"
    assert made.session_ref == removed.session_ref


def test_the_departed_staff_job_records_each_grant_it_ends(alice, bob, matter, before):
    other = MatterFactory()
    grant(bob, other, GrantLevel.EDIT)
    first = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    bob.employment_status = EmploymentStatus.DEPARTED
    bob.save(update_fields=["employment_status"])

    counts = end_access_of_departed_users()

    revoked = new_events(first, AuditAction.GRANT_REVOKE)
    assert counts["grants"] == len(revoked) == 2
    assert {event.matter_id for event in revoked} == {matter.pk, other.pk}
    for event in revoked:
        assert event.actor_id is None  # the system
        assert event.record["actor"] == ""  # not Bob: he did not revoke his own access
        assert event.record["reason"] == "departed"
        assert event.record["detail"]["user"] == "bob"
        assert event.session_ref == ""
        assert event.ip_address is None
    assert not MatterUserGrant.objects.filter(user=bob).exists()
    # A second run finds nothing left, and records nothing.
    end_access_of_departed_users()
    assert len(new_events(first, AuditAction.GRANT_REVOKE)) == 2
