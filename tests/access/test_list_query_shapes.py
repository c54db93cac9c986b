"""The list's query takes a shape by how many matters a person sees; every shape sees the same matters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db.models import Q
from django.utils import timezone

from access.models import GrantLevel
from access.policy import Action, count_visible_matters, visible_matters
from matters.models import MatterStatus
from tests.factories import MatterFactory, grant


@pytest.fixture
def bobs_matters(bob):
    team = Group.objects.create(name="Bob's team")
    team.user_set.add(bob)
    direct = MatterFactory.create_batch(3)
    via_team = MatterFactory.create_batch(2, status=MatterStatus.CLOSED)
    both = MatterFactory()
    expired, others = MatterFactory(), MatterFactory()
    for matter in [*direct, both]:
        grant(bob, matter, GrantLevel.VIEW)
    for matter in [*via_team, both]:
        grant(team, matter, GrantLevel.DOWNLOAD)
    grant(bob, expired, GrantLevel.VIEW, expires_at=timezone.now() + timedelta(seconds=1))
    grant(Group.objects.create(name="Other team"), others)
    return {m.number for m in [*direct, *via_team, both]}, expired


@pytest.mark.parametrize("known_count", [None, 0, 10**6])
def test_every_query_shape_sees_exactly_the_granted_matters(bob, bobs_matters, known_count, time_machine):
    expected, _expired = bobs_matters
    time_machine.move_to(timezone.now() + timedelta(seconds=2))  # the short grant has lapsed
    numbers = list(visible_matters(bob, known_count=known_count).values_list("number", flat=True))
    assert sorted(numbers) == sorted(expected)  # no duplicates for the matter granted twice
    assert count_visible_matters(bob) == len(expected)


@pytest.mark.parametrize("known_count", [None, 0, 10**6])
def test_filters_and_levels_apply_in_every_shape(bob, bobs_matters, known_count):
    closed = Q(status=MatterStatus.CLOSED)
    assert visible_matters(bob, matter_q=closed, known_count=known_count).count() == 2
    assert count_visible_matters(bob, matter_q=closed) == 2
    # Download comes only through the team: the two closed matters and the one held both ways.
    assert visible_matters(bob, Action.DOWNLOAD, known_count=known_count).count() == 3
    assert count_visible_matters(bob, Action.DOWNLOAD) == 3
