"""The security officer's reports, read from history (access.reports): who could access a matter
at a given time, and who accessed a client's information between two dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission

from access.models import (
    BreakGlassAccess,
    EthicalWall,
    GrantLevel,
    MatterUserGrant,
    WallAcknowledgement,
    WallKind,
    WallMember,
)
from access.reports import Via, client_accessors, matter_access_at
from access.services import grant_matter_access, revoke_matter_access
from audit.actions import AuditAction, Outcome
from audit.events import record_event
from matters.models import Matter
from tests.factories import MatterFactory, UserFactory, grant

# Three moments a week apart (09:00 in the firm's time zone, Asia/Shanghai).
T1 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
T2 = T1 + timedelta(days=7)
T3 = T2 + timedelta(days=7)
HOUR = timedelta(hours=1)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def ids(people) -> set[int]:
    return {person.user_id for person in people}


def wall_around(matter: Matter, *named, kind=WallKind.EXCLUSIONARY, erected_at=T2, whole_client=False, **extra):
    built = EthicalWall.objects.create(
        kind=kind,
        client=matter.client,
        matter=None if whole_client else matter,
        reason="conflict with the other side",
        memo="do not discuss",
        erected_at=erected_at,
        **extra,
    )
    for who in named:
        WallMember.objects.create(wall=built, **({"group": who} if isinstance(who, Group) else {"user": who}))
    return built


@pytest.fixture
def story(alice, bob, charlie):
    """Alice manages the matter from T1; Bob may view it from T1 too."""
    with at(T1):
        matter = MatterFactory(responsible_partner=alice)
        grant(alice, matter, GrantLevel.MANAGE)
        grant(bob, matter, GrantLevel.VIEW)
    return matter


# --- who could access a matter at a time ----------------------------------------------------------------


def test_a_wall_screens_the_person_from_when_it_stands_and_not_before(story, alice, bob):
    wall_around(story, bob, erected_at=T2)

    before = matter_access_at(story, T1 + HOUR)
    after = matter_access_at(story, T3)

    assert ids(before.could_access) == {alice.pk, bob.pk}
    assert before.screened == [] and before.walls == []
    assert ids(after.could_access) == {alice.pk}
    [screened] = after.screened
    assert screened.user == bob
    assert [blocker.wall.kind for blocker in screened.blockers] == [WallKind.EXCLUSIONARY]
    assert screened.routes[0].via == Via.DIRECT  # what the wall kept out: his grant


def test_a_lifted_wall_no_longer_screens(story, bob):
    wall_around(story, bob, erected_at=T2, lifted_at=T2 + HOUR)

    assert bob.pk in ids(matter_access_at(story, T3).could_access)
    assert bob.pk in ids(matter_access_at(story, T2 + HOUR / 2).screened)


def test_a_wall_around_every_matter_of_the_client_screens_this_one(story, bob):
    wall_around(story, bob, whole_client=True)
    other_clients_wall = wall_around(MatterFactory(), bob)

    report = matter_access_at(story, T3)

    assert ids(report.screened) == {bob.pk}
    assert other_clients_wall not in report.walls


def test_an_inclusionary_wall_keeps_out_everyone_it_does_not_name(story, alice, bob):
    wall_around(story, alice, kind=WallKind.INCLUSIONARY)

    report = matter_access_at(story, T3)

    assert ids(report.could_access) == {alice.pk}
    assert ids(report.screened) == {bob.pk}


def test_an_inclusionary_member_counts_only_once_they_acknowledged_the_memo(story, alice, bob):
    wall = wall_around(story, alice, bob, kind=WallKind.INCLUSIONARY, requires_acknowledgement=True)
    WallAcknowledgement.objects.create(wall=wall, user=bob, acknowledged_at=T3)

    between = matter_access_at(story, T2 + HOUR)
    later = matter_access_at(story, T3 + HOUR)

    assert ids(between.could_access) == set()
    assert all(blocker.unacknowledged for person in between.screened for blocker in person.blockers)
    assert ids(later.could_access) == {bob.pk}


def test_a_revoked_grant_counts_before_the_revocation_and_not_after(story, alice, bob):
    with at(T2):
        revoke_matter_access(actor=alice, grant=MatterUserGrant.objects.get(user=bob, content_object=story))

    assert bob.pk in ids(matter_access_at(story, T2 - HOUR).could_access)
    assert bob.pk not in ids(matter_access_at(story, T2 + HOUR).could_access)
    assert bob.pk not in ids(matter_access_at(story, T2 + HOUR).screened)


def test_nothing_granted_after_the_time_counts(story, charlie):
    with at(T2):
        grant(charlie, story)

    assert charlie.pk not in ids(matter_access_at(story, T1 + HOUR).could_access)
    assert charlie.pk in ids(matter_access_at(story, T2 + HOUR).could_access)


def test_a_grant_ends_at_its_recorded_expiry_even_before_the_job_removes_it(story, charlie):
    with at(T1):
        grant(charlie, story, expires_at=T2)

    assert charlie.pk in ids(matter_access_at(story, T2 - HOUR).could_access)
    assert charlie.pk not in ids(matter_access_at(story, T2 + HOUR).could_access)


def test_a_change_of_level_keeps_the_start_and_shows_the_level_then(story, alice, bob):
    with at(T2):
        grant_matter_access(actor=alice, matter=story, level=GrantLevel.EDIT, reason="drafting", user=bob)

    def bob_in(report):
        return next(person for person in report.could_access if person.user_id == bob.pk)

    assert bob_in(matter_access_at(story, T1 + HOUR)).level == GrantLevel.VIEW
    now_editing = bob_in(matter_access_at(story, T3))
    assert now_editing.level == GrantLevel.EDIT
    assert now_editing.since == T1


def test_a_team_grant_reaches_its_members_as_they_are_today(story, charlie):
    team = Group.objects.create(name="Bluefin deal team")
    team.user_set.add(charlie)
    with at(T2):
        grant(team, story, GrantLevel.DOWNLOAD)

    report = matter_access_at(story, T3)

    [team_grant] = report.group_grants
    assert team_grant.group == team and team_grant.members == [charlie]
    [charlie_there] = [person for person in report.could_access if person.user_id == charlie.pk]
    assert [(route.via, route.level) for route in charlie_there.routes] == [(Via.GROUP, GrantLevel.DOWNLOAD)]
    assert charlie.pk not in ids(matter_access_at(story, T1 + HOUR).could_access)


def test_a_wall_naming_a_team_screens_its_members(story, bob):
    team = Group.objects.create(name="Other side")
    team.user_set.add(bob)
    wall_around(story, team)

    assert ids(matter_access_at(story, T3).screened) == {bob.pk}


def test_emergency_access_is_listed_while_it_lasts_and_a_wall_still_wins(story, charlie, bob):
    BreakGlassAccess.objects.create(
        user=charlie, matter=story, reason="court deadline", started_at=T2, expires_at=T2 + 4 * HOUR
    )

    during = matter_access_at(story, T2 + HOUR)
    [charlie_there] = [person for person in during.could_access if person.user_id == charlie.pk]
    assert [route.via for route in charlie_there.routes] == [Via.EMERGENCY]
    assert len(during.emergencies) == 1
    assert charlie.pk not in ids(matter_access_at(story, T2 + 5 * HOUR).could_access)

    wall_around(story, charlie, erected_at=T2 - HOUR)
    assert charlie.pk in ids(matter_access_at(story, T2 + HOUR).screened)


def test_emergency_access_opened_for_real_is_one_route_not_two(story, charlie):
    """The emergency procedure makes a view grant as well as its own record: the report lists the
    person once, by the emergency, not again by that grant."""
    from access.break_glass import open_in_emergency

    with at(T2):
        open_in_emergency(user=charlie, number=story.number, reason="Hearing moved up, partner unreachable")

    [charlie_there] = [
        person for person in matter_access_at(story, T2 + HOUR).could_access if person.user_id == charlie.pk
    ]
    assert [route.via for route in charlie_there.routes] == [Via.EMERGENCY]


def test_a_grant_given_during_the_emergency_is_listed_beside_it(story, alice, charlie):
    """The partner gives Charlie lasting access an hour into his emergency: both routes show."""
    from access.break_glass import open_in_emergency

    with at(T2):
        open_in_emergency(user=charlie, number=story.number, reason="Hearing moved up, partner unreachable")
    with at(T2 + HOUR):
        grant(charlie, story, GrantLevel.VIEW)

    [charlie_there] = [p for p in matter_access_at(story, T2 + 2 * HOUR).could_access if p.user_id == charlie.pk]
    assert sorted(route.via for route in charlie_there.routes) == sorted([Via.EMERGENCY, Via.DIRECT])


def test_grants_made_before_the_trail_recorded_them_come_from_the_grant_table(story, charlie):
    # A grant row written without its event (as one imported before the trail began would be).
    permission = Permission.objects.get(content_type__app_label="matters", codename=GrantLevel.VIEW.value)
    MatterUserGrant.objects.create(user=charlie, content_object=story, permission=permission, created_at=T1)

    report = matter_access_at(story, T2)

    assert report.used_fallback
    [charlie_there] = [person for person in report.could_access if person.user_id == charlie.pk]
    assert charlie_there.routes[0].grant.from_rows
    assert not matter_access_at(story, T1 - HOUR).used_fallback


def test_the_point_in_time_report_reads_a_fixed_number_of_queries(story, django_assert_max_num_queries):
    team = Group.objects.create(name="Deal team")
    with at(T1):
        for number in range(8):
            person = UserFactory(username=f"associate{number}")
            grant(person, story)
            team.user_set.add(person)
            WallMember.objects.create(wall=wall_around(story, erected_at=T1 - HOUR), user=person)
        grant(team, story)

    with django_assert_max_num_queries(11):
        report = matter_access_at(story, T2)

    assert len(report.screened) == 8 and len(report.walls) == 8


# --- who accessed a client's information between two dates ----------------------------------------------


def test_the_transparency_report_counts_each_persons_accesses_in_the_period(alice, bob, charlie):
    first = MatterFactory()
    second = MatterFactory(client=first.client)
    elsewhere = MatterFactory()
    with at(T1):
        record_event(AuditAction.MATTER_VIEW, target=first, actor=bob)
        record_event(AuditAction.DOCUMENT_DOWNLOAD, target=second, actor=bob)
        record_event(AuditAction.MATTER_VIEW, target=second, actor=charlie)
        record_event(AuditAction.MATTER_VIEW, target=elsewhere, actor=alice)  # another client
        record_event(AuditAction.MATTER_VIEW, target=first, actor=alice, outcome=Outcome.DENIED)  # refused
        record_event(AuditAction.MATTER_LIST, target=first, actor=alice)  # a list: not counted
    with at(T2):
        record_event(AuditAction.MATTER_VIEW, target=first, actor=bob)
    with at(T3 + timedelta(days=1)):
        record_event(AuditAction.MATTER_VIEW, target=first, actor=charlie)  # after the period

    accessors = client_accessors(first.client, date(2026, 3, 1), T3.date())

    assert [accessor.user for accessor in accessors] == [bob, charlie]
    bobs, charlies = accessors
    assert bobs.counts == {AuditAction.MATTER_VIEW: 2, AuditAction.DOCUMENT_DOWNLOAD: 1}
    assert (bobs.first, bobs.last, bobs.total) == (T1, T2, 3)
    assert bobs.matter_numbers == sorted([first.number, second.number])
    assert charlies.counts == {AuditAction.MATTER_VIEW: 1}
    assert charlies.matter_numbers == [second.number]
    assert bobs.roles == ["Lawyer"]


def test_the_period_runs_from_the_first_days_start_to_the_last_days_end_in_the_firms_time_zone(bob):
    matter = MatterFactory()
    # 2026-03-02 00:30 and 23:30 in Shanghai; 03-03 00:30 is outside.
    for moment in (datetime(2026, 3, 1, 16, 30, tzinfo=UTC), datetime(2026, 3, 2, 15, 30, tzinfo=UTC)):
        with at(moment):
            record_event(AuditAction.MATTER_VIEW, target=matter, actor=bob)
    with at(datetime(2026, 3, 2, 16, 30, tzinfo=UTC)):
        record_event(AuditAction.MATTER_VIEW, target=matter, actor=bob)

    [bobs] = client_accessors(matter.client, date(2026, 3, 2), date(2026, 3, 2))

    assert bobs.total == 2


def test_the_transparency_report_is_a_few_queries_whatever_the_number_of_events(
    bob, charlie, django_assert_max_num_queries
):
    matter = MatterFactory()
    with at(T1):
        for _ in range(30):
            record_event(AuditAction.DOCUMENT_VIEW, target=matter, actor=bob)
            record_event(AuditAction.MATTER_VIEW, target=matter, actor=charlie)

    with django_assert_max_num_queries(4):
        accessors = client_accessors(matter.client, T1.date(), T1.date())

    assert [accessor.total for accessor in accessors] == [30, 30]


def test_a_person_whose_account_is_gone_is_still_counted(bob):
    matter = MatterFactory()
    ghost = UserFactory(username="ghost")
    with at(T1):
        record_event(AuditAction.MATTER_VIEW, target=matter, actor=ghost)
    ghost_id = ghost.pk
    ghost.delete()

    [accessor] = client_accessors(matter.client, T1.date(), T1.date())

    assert accessor.user is None and accessor.username == f"#{ghost_id}"
