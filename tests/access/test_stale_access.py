"""Access nobody uses: grants older than N days that their holder has not used in the last N days.

Use is what the audit trail shows: the holder opening the matter, or reading or
downloading one of its documents. The daily job proposes such grants, and removes
them itself only when ``STALE_ACCESS_REMOVE`` is on. Time is controlled throughout.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from access.models import GrantLevel, MatterGroupGrant, MatterUserGrant, Notification, NotificationKind, Role
from access.reviews import revoke_stale_grants, stale_grants
from audit.actions import AuditAction, Outcome
from audit.events import record_event
from audit.models import AuditEvent
from jobs.services import run_job
from tests.access.test_sign_in import T0
from tests.factories import MatterFactory, UserFactory, grant

NOW = T0 + timedelta(days=100)


@pytest.fixture
def world(alice, bob, charlie):
    """100 days ago: Bob and Charlie were given access to Alice's matter; Bob also to another."""
    with time_machine.travel(T0, tick=False):
        matter = MatterFactory(responsible_partner=alice)
        other = MatterFactory(responsible_partner=alice)
        grants = {
            "alice": grant(alice, matter, GrantLevel.MANAGE),
            "bob": grant(bob, matter),
            "charlie": grant(charlie, matter),
            "bob_other": grant(bob, other),
        }
    return SimpleNamespace(matter=matter, other=other, grants=grants)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _used(user, matter, days_ago: int, action=AuditAction.MATTER_VIEW, outcome=Outcome.SUCCESS):
    with time_machine.travel(NOW - timedelta(days=days_ago), tick=False):
        record_event(action, target=matter, actor=user, outcome=outcome)


def _stale_ids() -> set[int]:
    return set(stale_grants().values_list("pk", flat=True))


def test_a_grant_used_recently_is_not_stale_one_never_used_is(alice, bob, charlie, world):
    matter, grants = world.matter, world.grants
    _used(bob, matter, days_ago=10)
    assert _stale_ids() == {grants["charlie"].pk, grants["bob_other"].pk}


def test_each_kind_of_use_counts_on_its_own_matter(bob, charlie, world):
    matter, other, grants = world.matter, world.other, world.grants
    _used(bob, other, days_ago=89, action=AuditAction.DOCUMENT_DOWNLOAD)
    _used(charlie, matter, days_ago=5, action=AuditAction.DOCUMENT_VIEW)
    # Bob's use of the other matter says nothing about this one.
    assert _stale_ids() == {grants["bob"].pk}


def test_what_is_not_use_leaves_a_grant_stale(bob, charlie, world):
    matter, other, grants = world.matter, world.other, world.grants
    _used(bob, matter, days_ago=91)  # too long ago
    _used(charlie, matter, days_ago=3, outcome=Outcome.DENIED)  # refused: not a use
    _used(bob, other, days_ago=3, action=AuditAction.MATTER_LIST)  # listing is not opening
    assert _stale_ids() == {grants["bob"].pk, grants["charlie"].pk, grants["bob_other"].pk}
    last = {grant.pk: grant.last_used for grant in stale_grants()}
    assert last[grants["bob"].pk] == NOW - timedelta(days=91)
    assert last[grants["charlie"].pk] is None


def test_a_recent_grant_and_the_partners_own_access_are_never_stale(alice, bob, world):
    matter, grants = world.matter, world.grants
    newcomer = UserFactory(roles=[Role.LAWYER])
    grant(newcomer, matter)  # today
    stale = _stale_ids()
    assert grants["alice"].pk not in stale  # Alice runs the matter
    assert MatterUserGrant.objects.get(user=newcomer).pk not in stale


def test_the_window_is_a_setting(bob, charlie, world, settings):
    matter, grants = world.matter, world.grants
    _used(bob, matter, days_ago=40)
    assert grants["bob"].pk not in _stale_ids()
    settings.STALE_ACCESS_DAYS = 30
    assert grants["bob"].pk in _stale_ids()
    assert grants["bob"].pk not in set(stale_grants(days=60).values_list("pk", flat=True))


def test_stale_grants_are_found_in_one_query(bob, world, django_assert_num_queries):
    matter = world.matter
    for days_ago in (1, 50, 95):
        _used(bob, matter, days_ago=days_ago)
    with django_assert_num_queries(1):
        rows = list(stale_grants())
    assert len(rows) == 2


def test_removal_happens_only_when_enabled(bob, charlie, world, settings):
    matter, grants = world.matter, world.grants
    _used(bob, matter, days_ago=10)
    settings.STALE_ACCESS_REMOVE = False
    run = run_job("access.review_housekeeping")
    assert run.counts == {"closed": 0, "unanswered": 0, "gone": 0, "stale": 2, "stale_revoked": 0}
    assert MatterUserGrant.objects.count() == 4

    settings.STALE_ACCESS_REMOVE = True
    run = run_job("access.review_housekeeping")
    assert run.counts["stale_revoked"] == 2
    left = set(MatterUserGrant.objects.values_list("pk", flat=True))
    assert left == {grants["alice"].pk, grants["bob"].pk}
    events = [e.record for e in AuditEvent.objects.filter(action=AuditAction.GRANT_REVOKE)]
    assert {(e["detail"]["user_id"], e["reason"]) for e in events} == {
        (charlie.pk, "Not used in 90 days"),
        (bob.pk, "Not used in 90 days"),
    }
    assert Notification.objects.filter(recipient=charlie, kind=NotificationKind.GRANT_REVOKED).count() == 1
    assert run_job("access.review_housekeeping").counts["stale_revoked"] == 0


def test_team_grants_are_not_proposed(charlie, world):
    other = world.other
    team = Group.objects.create(name="Team B")
    team.user_set.add(charlie)
    with time_machine.travel(T0, tick=False):
        grant(team, other)
    assert MatterGroupGrant.objects.exists()
    assert all(isinstance(row, MatterUserGrant) for row in stale_grants())


def test_the_security_officer_removes_only_what_is_still_stale(alice, bob, charlie, dana, world):
    matter, grants = world.matter, world.grants
    _used(bob, matter, days_ago=10)
    revoked = revoke_stale_grants(actor=dana, grant_ids=[grants["bob"].pk, grants["charlie"].pk])
    assert revoked == 1  # Bob used his
    assert set(MatterUserGrant.objects.values_list("pk", flat=True)) == {
        grants["alice"].pk,
        grants["bob"].pk,
        grants["bob_other"].pk,
    }
    with pytest.raises(PermissionDenied):
        revoke_stale_grants(actor=alice)
