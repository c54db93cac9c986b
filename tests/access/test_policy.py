"""access.policy: who may see and do what with a matter; deny by default, expiry exact, no role bypass."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from access.models import EmploymentStatus, GrantLevel, MatterGroupGrant, MatterUserGrant
from access.policy import (
    Action,
    can,
    count_visible_matters,
    get_document_for,
    get_matter_for,
    visible_matters,
)
from tests.access.test_sign_in import T0
from tests.factories import MatterFactory, grant, make_document

MATTERS = reverse("matters:list")
LEVEL_ORDER = [GrantLevel.VIEW, GrantLevel.DOWNLOAD, GrantLevel.EDIT, GrantLevel.MANAGE]
ACTION_ORDER = [Action.VIEW, Action.DOWNLOAD, Action.EDIT, Action.MANAGE]


@pytest.mark.parametrize("level", LEVEL_ORDER, ids=lambda lvl: lvl.label)
@pytest.mark.parametrize("action", ACTION_ORDER, ids=str)
def test_each_level_allows_its_actions_and_those_below(charlie, matter, level, action):
    grant(charlie, matter, level)
    expected = LEVEL_ORDER.index(level) >= ACTION_ORDER.index(action)

    assert bool(can(charlie, action, matter)) is expected
    assert list(visible_matters(charlie, action)) == ([matter] if expected else [])
    assert bool(can(charlie, action, make_document(matter))) is expected


def test_a_refusal_says_why(bob, charlie, matter):
    assert str(can(charlie, Action.VIEW, matter).reason) == "You have no access to this matter."
    assert str(can(bob, Action.EDIT, matter).reason) == "Your access to this matter does not allow this."
    assert str(can(bob, Action.VIEW, matter).reason) == "Granted."


def test_what_cannot_be_seen_is_404_and_what_can_be_seen_but_not_done_is_403(bob, charlie, matter):
    document = make_document(matter)

    with pytest.raises(Http404):
        get_matter_for(charlie, matter.pk)
    with pytest.raises(Http404):
        get_document_for(charlie, document.pk, Action.DOWNLOAD)
    with pytest.raises(PermissionDenied):
        get_matter_for(bob, matter.pk, Action.EDIT)
    with pytest.raises(PermissionDenied):
        get_document_for(bob, document.pk, Action.DOWNLOAD)
    assert get_matter_for(bob, matter.pk) == matter


def test_a_missing_matter_is_404_like_a_forbidden_one(alice, matter):
    with pytest.raises(Http404):
        get_matter_for(alice, uuid.uuid4())


def test_an_expired_grant_never_authorizes_though_its_row_remains(client, login, charlie, matter):
    with time_machine.travel(T0, tick=False) as clock:
        expires_at = timezone.now() + timedelta(hours=1)
        grant(charlie, matter, GrantLevel.MANAGE, expires_at=expires_at)
        clock.move_to(expires_at - timedelta(minutes=5))
        login(charlie)

        clock.move_to(expires_at - timedelta(seconds=1))
        assert can(charlie, Action.MANAGE, matter)
        assertContains(client.get(matter.get_absolute_url()), matter.title)

        clock.move_to(expires_at)  # exactly at expires_at it is already expired
        for action in ACTION_ORDER:
            assert not can(charlie, action, matter)
        assert list(visible_matters(charlie)) == []
        assert count_visible_matters(charlie) == 0
        assert client.get(matter.get_absolute_url()).status_code == 404
        assertNotContains(client.get(MATTERS), matter.number)
        assert MatterUserGrant.objects.filter(user=charlie, content_object=matter).exists()


def test_an_expired_group_grant_never_authorizes(charlie, matter):
    team = Group.objects.create(name="Short-lived team")
    charlie.groups.add(team)
    with time_machine.travel(T0, tick=False) as clock:
        expires_at = timezone.now() + timedelta(days=7)
        grant(team, matter, GrantLevel.VIEW, expires_at=expires_at)
        assert can(charlie, Action.VIEW, matter)

        clock.move_to(expires_at)

        assert not can(charlie, Action.VIEW, matter)
        assert count_visible_matters(charlie) == 0
        assert MatterGroupGrant.objects.filter(group=team).exists()


def test_direct_and_group_grants_combine_to_the_stronger(bob, matter):
    team = Group.objects.create(name="Disclosure team")
    bob.groups.add(team)
    grant(team, matter, GrantLevel.DOWNLOAD)  # Bob's own grant is view-only

    assert can(bob, Action.DOWNLOAD, matter)
    assert not can(bob, Action.EDIT, matter)


def test_a_live_group_grant_still_opens_a_matter_whose_direct_grant_expired(charlie, matter):
    team = Group.objects.create(name="Standing team")
    charlie.groups.add(team)
    with time_machine.travel(T0, tick=False) as clock:
        grant(charlie, matter, GrantLevel.MANAGE, expires_at=timezone.now() + timedelta(hours=1))
        grant(team, matter, GrantLevel.VIEW)

        clock.shift(timedelta(hours=2))

        assert can(charlie, Action.VIEW, matter)
        assert not can(charlie, Action.MANAGE, matter)


def test_a_matter_granted_twice_is_listed_and_counted_once(client, login, bob, matter):
    team = Group.objects.create(name="Everyone on the case")
    bob.groups.add(team)
    grant(team, matter, GrantLevel.VIEW)
    MatterFactory()  # someone else's matter

    assert list(visible_matters(bob)) == [matter]
    assert count_visible_matters(bob) == 1
    assertContains(login(bob).get(MATTERS), '<p class="count" id="matter-count">1 matter</p>', html=False)


def test_a_departed_person_sees_nothing_even_before_the_job_runs(client, login, bob, matter):
    team = Group.objects.create(name="Bob's team")
    bob.groups.add(team)
    grant(team, MatterFactory(), GrantLevel.MANAGE)
    login(bob)
    assertContains(client.get(MATTERS), matter.number)

    bob.employment_status = EmploymentStatus.DEPARTED
    bob.save(update_fields=["employment_status"])

    assert list(visible_matters(bob)) == []
    assert count_visible_matters(bob) == 0
    decision = can(bob, Action.VIEW, matter)
    assert not decision
    assert str(decision.reason) == "The account belongs to someone who has left the firm."
    # Their open session ends at the next request, whatever it asks for.
    response = client.get(matter.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:login"))
    assert client.get(MATTERS).status_code == 302
    # The grants are still there: the policy, not the clean-up job, is what refuses.
    assert MatterUserGrant.objects.filter(user=bob).exists()


@pytest.mark.parametrize("persona", ["root", "adam", "dana"])
def test_no_role_opens_a_matter_without_a_grant(request, client, login, matter, persona):
    user = request.getfixturevalue(persona)
    document = make_document(matter)

    assert list(visible_matters(user)) == []
    for action in ACTION_ORDER:
        assert not can(user, action, matter)
        assert not can(user, action, document)

    login(user)
    assert client.get(matter.get_absolute_url()).status_code == 404
    assert client.get(reverse("matters:document_download", args=[document.pk])).status_code == 404
    assertNotContains(client.get(MATTERS), matter.number)


def test_an_inactive_account_sees_nothing(bob, matter):
    bob.is_active = False
    bob.save(update_fields=["is_active"])

    assert list(visible_matters(bob)) == []
    assert not can(bob, Action.VIEW, matter)


def test_an_anonymous_visitor_sees_nothing(matter):
    assert list(visible_matters(AnonymousUser())) == []
    assert count_visible_matters(AnonymousUser()) == 0
    assert not can(AnonymousUser(), Action.VIEW, matter)


def test_a_session_without_the_second_factor_sees_nothing(bob, matter):
    bob.is_verified = lambda: False  # what django-otp's middleware attaches before the code is entered

    assert list(visible_matters(bob)) == []
    assert str(can(bob, Action.VIEW, matter).reason) == "The second factor has not been verified in this session."
