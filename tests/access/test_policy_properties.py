"""access.policy with ethical walls, checked against a model of the rules on random small firms.

Hypothesis draws a firm — three or four people, two teams with random members, two
clients with one or two matters each, direct and team grants of random levels (some
ended, one ending exactly now), break-glass access (a four-hour VIEW grant and its
record), and walls (exclusionary or inclusionary, around a matter or a whole client,
naming people and teams, some lifted, some asking for the memo to be acknowledged) —
builds it in the database, and compares every answer of the policy with a plain
Python reading of the rules (``Oracle``):

- a live exclusionary wall naming the person, directly or through a team, around the
  matter or its client, always wins: no grant, team grant or break-glass passes it;
- a live inclusionary wall there admits its members only;
- a lifted wall does nothing; an ended grant never authorizes;
- otherwise the person's level is the strongest of their live grants, theirs or
  their teams' — one suffices, and removing one of two keeps the other's;
- ``visible_matters`` (and ``count_visible_matters``) are exactly the matters
  ``can`` allows, except one an inclusionary wall's member has yet to acknowledge
  the memo of: listed (they know it exists), refused with the remedy until then.

Each example runs inside a savepoint rolled back at its end, at a frozen instant.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from access.models import (
    BreakGlassAccess,
    EthicalWall,
    GrantLevel,
    MatterGroupGrant,
    MatterUserGrant,
    Role,
    User,
    WallAcknowledgement,
    WallKind,
    WallMember,
)
from access.policy import (
    SCREENED,
    Action,
    can,
    count_visible_matters,
    level_on,
    requestable_matters,
    visible_matters,
)
from audit.events import request_scope
from matters.models import Classification, MatterStatus
from tests.factories import ClientFactory, MatterFactory

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LEVELS = list(GrantLevel)  # weakest first
ACTIONS = list(Action)  # in the same order as the levels they need
# When a grant ends, relative to NOW: "now" has ended (expiry is exact: in force while expires_at > now).
ENDS = {"never": None, "past": timedelta(days=-1), "now": timedelta(0), "future": timedelta(days=1)}
BREAK_GLASS_ENDS = {"future": timedelta(hours=4), "past": timedelta(hours=-1)}
PEOPLE, TEAMS, CLIENTS = 4, 2, 2


# --- The firm, as data ---------------------------------------------------------------------


@dataclass(frozen=True)
class GrantSpec:
    level: GrantLevel
    ends: str  # a key of ENDS, or of BREAK_GLASS_ENDS when break_glass
    break_glass: bool = False

    @property
    def live(self) -> bool:
        return self.ends in ("never", "future")

    @property
    def expires_at(self) -> datetime | None:
        shift = (BREAK_GLASS_ENDS if self.break_glass else ENDS)[self.ends]
        return None if shift is None else NOW + shift


@dataclass(frozen=True)
class WallSpec:
    kind: WallKind
    client: int
    matter: int | None  # None: every matter of the client
    people: frozenset[int]
    teams: frozenset[int]
    lifted: bool
    requires_acknowledgement: bool
    acknowledged_by: frozenset[int]


@dataclass(frozen=True)
class Firm:
    people: int
    verified: tuple[bool, ...]  # True: the person carries is_verified() (as OTPMiddleware sets it), answering True
    members: tuple[frozenset[int], ...]  # per team
    matters: tuple[int, ...]  # the client of each matter
    classifications: tuple[int, ...]
    statuses: tuple[str, ...]
    direct: dict[tuple[int, int], GrantSpec]  # (person, matter)
    team: dict[tuple[int, int], GrantSpec]  # (team, matter)
    walls: tuple[WallSpec, ...]


def grants(*, break_glass: bool) -> st.SearchStrategy:
    options = [
        st.none(),
        st.builds(GrantSpec, level=st.sampled_from(LEVELS), ends=st.sampled_from(list(ENDS))),
    ]
    if break_glass:
        # Break-glass: four hours of VIEW, still running or already over.
        ends = st.sampled_from(list(BREAK_GLASS_ENDS))
        options.append(st.builds(GrantSpec, level=st.just(GrantLevel.VIEW), ends=ends, break_glass=st.just(True)))
    return st.one_of(*options)


@st.composite
def firms(draw) -> Firm:
    people = draw(st.integers(3, PEOPLE))
    someone = st.sampled_from(range(people))
    per_client = [draw(st.integers(1, 2)) for _ in range(CLIENTS)]
    matters = tuple(client for client, count in enumerate(per_client) for _ in range(count))
    walls = []
    for _ in range(draw(st.integers(1, 3))):
        client = draw(st.integers(0, CLIENTS - 1))
        own = [m for m, c in enumerate(matters) if c == client]
        walls.append(
            WallSpec(
                kind=draw(st.sampled_from(list(WallKind))),
                client=client,
                matter=draw(st.sampled_from([None, *own])),
                people=draw(st.frozensets(someone, max_size=people)),
                teams=draw(st.frozensets(st.sampled_from(range(TEAMS)), max_size=TEAMS)),
                lifted=draw(st.sampled_from([False, False, True])),
                requires_acknowledgement=draw(st.booleans()),
                acknowledged_by=draw(st.frozensets(someone, max_size=1)),
            )
        )
    pairs = itertools.product(range(people), range(len(matters)))
    direct = {pair: spec for pair in pairs if (spec := draw(grants(break_glass=True))) is not None}
    team_pairs = itertools.product(range(TEAMS), range(len(matters)))
    team = {pair: spec for pair in team_pairs if (spec := draw(grants(break_glass=False))) is not None}
    return Firm(
        people=people,
        verified=tuple(draw(st.booleans()) for _ in range(people)),
        members=tuple(draw(st.frozensets(someone, max_size=people)) for _ in range(TEAMS)),
        matters=matters,
        classifications=tuple(
            draw(st.sampled_from([Classification.INTERNAL, Classification.CONFIDENTIAL])) for _ in matters
        ),
        statuses=tuple(draw(st.sampled_from([MatterStatus.OPEN, MatterStatus.CLOSED])) for _ in matters),
        direct=direct,
        team=team,
        walls=tuple(walls),
    )


# --- The rules, read plainly -------------------------------------------------------------


class Oracle:
    """What the policy must answer for ``firm``, worked out without the database."""

    def __init__(self, firm: Firm):
        self.firm = firm

    def teams_of(self, person: int) -> set[int]:
        return {team for team, members in enumerate(self.firm.members) if person in members}

    def names(self, wall: WallSpec, person: int) -> bool:
        return person in wall.people or bool(wall.teams & self.teams_of(person))

    def walls_around(self, matter: int) -> list[WallSpec]:
        """The live walls around ``matter``: its own and its client's."""
        client = self.firm.matters[matter]
        return [
            wall
            for wall in self.firm.walls
            if not wall.lifted and wall.client == client and wall.matter in (None, matter)
        ]

    def screened(self, person: int, matter: int) -> bool:
        return any(
            self.names(wall, person) == (wall.kind == WallKind.EXCLUSIONARY) for wall in self.walls_around(matter)
        )

    def pending(self, person: int, matter: int) -> list[int]:
        """The live inclusionary walls there naming the person, whose memo they have not acknowledged."""
        client = self.firm.matters[matter]
        return [
            n
            for n, wall in enumerate(self.firm.walls)
            if not wall.lifted
            and wall.client == client
            and wall.matter in (None, matter)
            and wall.kind == WallKind.INCLUSIONARY
            and wall.requires_acknowledgement
            and self.names(wall, person)
            and person not in wall.acknowledged_by
        ]

    def live_levels(self, person: int, matter: int) -> list[GrantLevel]:
        held = [self.firm.direct.get((person, matter))]
        held += [self.firm.team.get((team, matter)) for team in self.teams_of(person)]
        return [spec.level for spec in held if spec is not None and spec.live]

    def level(self, person: int, matter: int) -> GrantLevel | None:
        if self.screened(person, matter):
            return None
        levels = self.live_levels(person, matter)
        return max(levels, key=LEVELS.index) if levels else None

    def reaches(self, person: int, matter: int, action: Action) -> bool:
        """Holds a level enough for ``action`` (what the list shows)."""
        level = self.level(person, matter)
        return level is not None and LEVELS.index(level) >= ACTIONS.index(action)

    def allowed(self, person: int, matter: int, action: Action) -> bool:
        return self.reaches(person, matter, action) and not self.pending(person, matter)

    def requestable(self, person: int, matter: int) -> bool:
        return (
            self.firm.classifications[matter] < Classification.CONFIDENTIAL
            and self.firm.statuses[matter] != MatterStatus.CLOSED
            and not self.live_levels(person, matter)
            and not self.screened(person, matter)
        )


# --- The firm, in the database -----------------------------------------------------------


@dataclass
class Built:
    people: list
    teams: list
    matters: list
    direct: dict  # (person, matter) -> MatterUserGrant
    team: dict  # (team, matter) -> MatterGroupGrant
    walls: list  # EthicalWall, in the order of firm.walls


def build(firm: Firm, permissions: dict[str, Permission]) -> Built:
    lawyers = Group.objects.get_or_create(name=Role.LAWYER.value)[0]
    people = []
    for n in range(firm.people):
        # "!" is Django's unusable password: nobody signs in, and no hashing slows the example.
        person = User.objects.create(username=f"person{n}", email=f"person{n}@example.test", password="!")
        person.groups.add(lawyers)  # browsing matters open to requests needs the role
        if firm.verified[n]:
            person.is_verified = lambda: True
        people.append(person)
    teams = [Group.objects.create(name=f"team{n}") for n in range(TEAMS)]
    for team, members in zip(teams, firm.members, strict=True):
        team.user_set.add(*(people[p] for p in members))
    clients = [ClientFactory() for _ in range(CLIENTS)]
    matters = [
        MatterFactory(client=clients[client], classification=classification, status=status)
        for client, classification, status in zip(firm.matters, firm.classifications, firm.statuses, strict=True)
    ]
    direct = {}
    for (p, m), spec in firm.direct.items():
        direct[p, m] = MatterUserGrant.objects.create(
            user=people[p], content_object=matters[m], permission=permissions[spec.level], expires_at=spec.expires_at
        )
        if spec.break_glass:
            BreakGlassAccess.objects.create(
                user=people[p],
                matter=matters[m],
                reason="Court deadline tonight",
                started_at=spec.expires_at - timedelta(hours=4),
                expires_at=spec.expires_at,
            )
    team = {
        (t, m): MatterGroupGrant.objects.create(
            group=teams[t], content_object=matters[m], permission=permissions[spec.level], expires_at=spec.expires_at
        )
        for (t, m), spec in firm.team.items()
    }
    walls = []
    for spec in firm.walls:
        wall = EthicalWall.objects.create(
            kind=spec.kind,
            client=clients[spec.client],
            matter=matters[spec.matter] if spec.matter is not None else None,
            reason="Acting for the other side",
            memo="Do not discuss the matter.",
            requires_acknowledgement=spec.requires_acknowledgement,
            erected_at=NOW - timedelta(days=2),
            lifted_at=NOW - timedelta(days=1) if spec.lifted else None,
        )
        WallMember.objects.bulk_create(
            [WallMember(wall=wall, user=people[p]) for p in spec.people]
            + [WallMember(wall=wall, group=teams[t]) for t in spec.teams]
        )
        WallAcknowledgement.objects.bulk_create(
            [WallAcknowledgement(wall=wall, user=people[p]) for p in spec.acknowledged_by]
        )
        walls.append(wall)
    return Built(people, teams, matters, direct, team, walls)


@pytest.fixture
def permissions(db) -> dict[str, Permission]:
    found = Permission.objects.filter(content_type__app_label="matters", codename__in=GrantLevel.values)
    return {GrantLevel(p.codename): p for p in found}


@pytest.fixture
def without_gates(settings):
    """Only grants and walls decide here: the training gate (tested in tests/training) asks nothing."""
    settings.ACCESS_MATTER_GATES = []


def describe(firm: Firm, person: int, matter: int) -> str:
    """What a failure needs to be read: the person's teams, grants and the walls around the matter."""
    oracle = Oracle(firm)
    return (
        f"person {person} (teams {sorted(oracle.teams_of(person))}) on matter {matter} "
        f"(client {firm.matters[matter]}): direct {firm.direct.get((person, matter))}, "
        f"team {[(t, firm.team.get((t, matter))) for t in sorted(oracle.teams_of(person))]}, "
        f"walls {[w for w in firm.walls if w.client == firm.matters[matter] and w.matter in (None, matter)]}"
    )


# --- The properties ----------------------------------------------------------------------


@dataclass
class Answers:
    """What the policy answers one person, by matter index."""

    level: list  # level_on, per matter
    can: list  # per matter: {action: Decision}
    visible: dict  # action -> matters visible_matters holds
    count: dict  # action -> count_visible_matters
    visible_known: set  # visible_matters(known_count=count): the list's shape for few matters (PostgreSQL)
    requestable: set


def ask(user, matters: list) -> Answers:
    """Everything, asked as one page would (one request: the walls are read once for it)."""
    request = RequestFactory().get("/")
    request.user = user
    index = {matter.pk: n for n, matter in enumerate(matters)}

    def indices(queryset) -> set[int]:
        return {index[pk] for pk in queryset.values_list("pk", flat=True)}

    with request_scope(request):
        levels = [level_on(user, matter) for matter in matters]
        # VIEW as a list row asks (the whole path); the stronger actions as a matter page
        # asks them, with the level it already holds (get_matter_for).
        decisions = [
            {Action.VIEW: can(user, Action.VIEW, matter)}
            | {action: can(user, action, matter, level=level) for action in ACTIONS[1:]}
            for matter, level in zip(matters, levels, strict=True)
        ]
        visible = {action: indices(visible_matters(user, action)) for action in ACTIONS}
        counts = {action: count_visible_matters(user, action) for action in ACTIONS}
        known = indices(visible_matters(user, known_count=counts[Action.VIEW]))
        requestable = indices(requestable_matters(user))
    return Answers(levels, decisions, visible, counts, known, requestable)


def check_rules(firm: Firm, answers: list[Answers]) -> None:
    """The rules stated directly on the answers, whatever the oracle says."""
    oracle = Oracle(firm)
    for person, matter in itertools.product(range(firm.people), range(len(firm.matters))):
        said = answers[person]
        decision, visible = said.can[matter][Action.VIEW], matter in said.visible[Action.VIEW]
        where = describe(firm, person, matter)
        walls = oracle.walls_around(matter)
        live = oracle.live_levels(person, matter)
        for wall in walls:
            if wall.kind == WallKind.EXCLUSIONARY and oracle.names(wall, person):
                event("an exclusionary wall names the person" + (" over a live grant" if live else ""))
                if _break_glass(firm, person, matter):
                    event("an exclusionary wall names a person in on break-glass")
                assert not decision and not visible, "an exclusionary wall always wins: " + where
                assert decision.reason == SCREENED, where
                assert said.level[matter] is None, where
            if wall.kind == WallKind.INCLUSIONARY and not oracle.names(wall, person):
                event("an inclusionary wall leaves the person out" + (" despite a live grant" if live else ""))
                assert not decision and not visible, "an inclusionary wall admits its members only: " + where
                assert decision.reason == SCREENED, where
        if live and decision and any(w.kind == WallKind.INCLUSIONARY for w in walls):
            event("an inclusionary wall admits a member with a live grant")
        if not live:
            assert not decision and not visible, "no live grant, no access: " + where
        if not walls:
            if any(w.client == firm.matters[matter] and w.matter in (None, matter) for w in firm.walls):
                event("only lifted walls around the matter")
            assert bool(decision) is bool(live), "without a live wall, access iff a live grant: " + where
            if live:
                assert said.level[matter] == max(live, key=LEVELS.index), where
                if _break_glass(firm, person, matter):
                    event("break-glass access allows, no wall")


def _break_glass(firm: Firm, person: int, matter: int) -> bool:
    spec = firm.direct.get((person, matter))
    return spec is not None and spec.break_glass and spec.live


def check_against_oracle(firm: Firm, built: Built, answers: list[Answers]) -> None:
    oracle = Oracle(firm)
    matters = range(len(firm.matters))
    for person, said in enumerate(answers):
        for action in ACTIONS:
            expected = {m for m in matters if oracle.reaches(person, m, action)}
            assert said.visible[action] == expected, f"visible_matters(person {person}, {action})"
            assert said.count[action] == len(expected), f"count_visible_matters(person {person}, {action})"
            if action == Action.VIEW:
                assert said.visible_known == expected, f"visible_matters(person {person}, known_count)"
        assert said.requestable == {m for m in matters if oracle.requestable(person, m)}, f"requestable ({person})"
        for matter in matters:
            where = describe(firm, person, matter)
            pending = oracle.pending(person, matter)
            assert said.level[matter] == oracle.level(person, matter), "level_on: " + where
            for action, decision in said.can[matter].items():
                assert bool(decision) is oracle.allowed(person, matter, action), f"can({action}): {where}"
                if not decision and oracle.reaches(person, matter, action):
                    # Listed but refused: only for a memo still to acknowledge, with the way to do it.
                    event("an inclusionary wall's member has still to acknowledge the memo")
                    memos = {reverse("access:wall_acknowledge", args=[built.walls[n].pk]) for n in pending}
                    assert decision.remedy_url in memos, where
            # Listed iff allowed to view, but for a memo still to acknowledge.
            listed = matter in said.visible[Action.VIEW]
            reachable = oracle.reaches(person, matter, Action.VIEW)
            assert listed == (bool(said.can[matter][Action.VIEW]) or (reachable and bool(pending))), where


def check_one_grant_is_enough(firm: Firm, built: Built) -> None:
    """Removing one of two live grants (the person's own, or their teams') keeps the other's access."""
    oracle = Oracle(firm)
    for (person, matter), spec in firm.direct.items():
        teams = [t for t in oracle.teams_of(person) if (t, matter) in firm.team and firm.team[t, matter].live]
        if not spec.live or not teams or oracle.screened(person, matter):
            continue
        event("a direct and a team grant together")
        user, subject = built.people[person], built.matters[matter]
        team_level = max((firm.team[t, matter].level for t in teams), key=LEVELS.index)
        with transaction.atomic():
            MatterUserGrant.objects.filter(pk=built.direct[person, matter].pk).delete()
            assert level_on(user, subject) == team_level, "team grant alone: " + describe(firm, person, matter)
            assert subject in visible_matters(user)
            transaction.set_rollback(True)
        with transaction.atomic():
            MatterGroupGrant.objects.filter(pk__in=[built.team[t, matter].pk for t in teams]).delete()
            assert level_on(user, subject) == spec.level, "direct grant alone: " + describe(firm, person, matter)
            assert subject in visible_matters(user)
            transaction.set_rollback(True)


@pytest.mark.django_db
@settings(
    max_examples=100,
    deadline=None,
    database=None,  # nothing written into the working tree; a failure prints its example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(firm=firms())
def test_the_policy_answers_as_the_rules_say(permissions, without_gates, firm):
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        built = build(firm, permissions)
        answers = [ask(user, built.matters) for user in built.people]
        check_rules(firm, answers)
        check_against_oracle(firm, built, answers)
        check_one_grant_is_enough(firm, built)
        transaction.set_rollback(True)


def test_a_person_outside_a_request_has_no_second_factor_flag_and_is_not_refused_for_it(permissions):
    """The properties rely on it: only OTPMiddleware sets ``is_verified``; without it the policy
    looks at the grants, and with it answering False refuses."""
    person = User.objects.create(username="plain", password="!")
    matter = MatterFactory()
    MatterUserGrant.objects.create(user=person, content_object=matter, permission=permissions[GrantLevel.VIEW])

    assert getattr(person, "is_verified", None) is None
    assert can(person, Action.VIEW, matter)
    person.is_verified = lambda: False
    assert not can(person, Action.VIEW, matter)
    assert list(visible_matters(person)) == []
