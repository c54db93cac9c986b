"""Granting and revoking matter access (access.services), seen from the people it affects."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from access.models import EmploymentStatus, GrantLevel, MatterGroupGrant, MatterUserGrant
from access.policy import Action, can
from access.services import grant_matter_access, revoke_matter_access
from tests.access.test_sign_in import T0
from tests.factories import MatterFactory, UserFactory, grant

MATTERS = reverse("matters:list")


def test_a_direct_grant_makes_the_matter_appear(client, login, alice, charlie, matter):
    login(charlie)
    assertNotContains(client.get(MATTERS), matter.number)
    assert client.get(matter.get_absolute_url()).status_code == 404

    grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason="joins the team", user=charlie)

    assertContains(client.get(MATTERS), matter.number)
    assertContains(client.get(matter.get_absolute_url()), matter.title)


def test_a_group_grant_reaches_every_member_and_only_them(client, login, alice, charlie, dana, matter):
    team = Group.objects.create(name="Project Falcon team")
    charlie.groups.add(team)
    grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason="deal team", group=team)

    login(charlie)
    assertContains(client.get(MATTERS), matter.number)
    assertContains(client.get(matter.get_absolute_url()), matter.title)

    charlie.groups.remove(team)
    assert client.get(matter.get_absolute_url()).status_code == 404
    assert not can(dana, Action.VIEW, matter)


def test_revoking_a_grant_takes_the_matter_away_at_once(client, login, bob, matter):
    login(bob)
    assert client.get(matter.get_absolute_url()).status_code == 200

    revoke_matter_access(actor=None, grant=MatterUserGrant.objects.get(user=bob, content_object=matter))

    assert client.get(matter.get_absolute_url()).status_code == 404
    assertNotContains(client.get(MATTERS), matter.number)


def test_regranting_replaces_the_level_instead_of_adding_a_row(alice, bob, matter):
    grant_matter_access(actor=alice, matter=matter, level=GrantLevel.EDIT, reason="drafting", user=bob)

    (row,) = MatterUserGrant.objects.filter(user=bob, content_object=matter)
    assert row.level == GrantLevel.EDIT
    assert row.reason == "drafting"
    assert row.granted_by == alice
    assert can(bob, Action.EDIT, matter)

    grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason="drafting done", user=bob)

    assert MatterUserGrant.objects.filter(user=bob, content_object=matter).count() == 1
    assert not can(bob, Action.EDIT, matter)
    assert can(bob, Action.VIEW, matter)


def test_regranting_a_group_replaces_its_grant(alice, matter):
    team = Group.objects.create(name="Review team")
    grant_matter_access(actor=alice, matter=matter, level=GrantLevel.MANAGE, reason="review", group=team)
    grant_matter_access(actor=alice, matter=matter, level=GrantLevel.DOWNLOAD, reason="review", group=team)

    (row,) = MatterGroupGrant.objects.filter(group=team, content_object=matter)
    assert row.level == GrantLevel.DOWNLOAD


def test_regranting_without_expiry_makes_the_grant_permanent(alice, charlie, matter):
    with time_machine.travel(T0, tick=False) as clock:
        grant(charlie, matter, expires_at=timezone.now() + timedelta(days=1))
        grant(charlie, matter)

        clock.shift(timedelta(days=2))
        assert can(charlie, Action.VIEW, matter)


def test_access_cannot_be_granted_to_a_departed_person(alice, charlie, matter):
    charlie.employment_status = EmploymentStatus.DEPARTED
    charlie.save(update_fields=["employment_status"])

    with pytest.raises(ValidationError) as refused:
        grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason="oops", user=charlie)

    assert "user" in refused.value.message_dict
    assert not MatterUserGrant.objects.filter(user=charlie).exists()


def test_access_cannot_be_granted_to_an_inactive_account(alice, charlie, matter):
    charlie.is_active = False
    charlie.save(update_fields=["is_active"])

    with pytest.raises(ValidationError):
        grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason="oops", user=charlie)

    assert not MatterUserGrant.objects.filter(user=charlie).exists()


def test_a_departing_person_may_still_be_granted_access_until_they_leave(alice, matter):
    leaver = UserFactory(employment_status=EmploymentStatus.DEPARTING)

    grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason="handover", user=leaver)

    assert can(leaver, Action.VIEW, matter)


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(seconds=-1), timedelta(days=-3)])
def test_an_expiry_that_is_not_in_the_future_is_refused(alice, charlie, matter, offset):
    with time_machine.travel(T0, tick=False), pytest.raises(ValidationError) as refused:
        grant_matter_access(
            actor=alice,
            matter=matter,
            level=GrantLevel.VIEW,
            reason="short look",
            user=charlie,
            expires_at=timezone.now() + offset,
        )

    assert "expires_at" in refused.value.message_dict
    assert not MatterUserGrant.objects.filter(user=charlie).exists()


def test_a_grant_needs_a_reason(alice, charlie, matter):
    with pytest.raises(ValidationError) as refused:
        grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason="   ", user=charlie)

    assert "reason" in refused.value.message_dict


def test_a_grant_goes_to_exactly_one_person_or_one_group(alice, charlie, matter):
    team = Group.objects.create(name="Some team")

    with pytest.raises(ValidationError):
        grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason="both", user=charlie, group=team)
    with pytest.raises(ValidationError):
        grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason="neither")

    assert not MatterUserGrant.objects.filter(user=charlie).exists()
    assert not MatterGroupGrant.objects.filter(group=team).exists()


def test_a_grant_on_one_matter_opens_no_other(client, login, charlie, matter):
    other = MatterFactory(client=matter.client)
    grant(charlie, other, GrantLevel.MANAGE)

    login(charlie)

    assert client.get(matter.get_absolute_url()).status_code == 404
    listing = client.get(MATTERS)
    assertContains(listing, other.number)
    assertNotContains(listing, matter.number)
