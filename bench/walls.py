"""Benchmark the policy with ethical walls: 1,000 live walls over 20,000 matters and 200,000 grants.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.walls [--matters N]
        [--clients N] [--users N] [--grants N] [--walls N] [--lifted N] [--rounds N] [--skip-generate]

Creates its own database (``custos_bench_walls``), migrates it, and adds (bulk
inserts, not services; COPY for the grants on PostgreSQL) people, teams, deal
teams, clients, matters and person and team grants. Two people are timed, holding
the same 2,000 grants: *walled*, named by a few exclusionary walls around matters
and clients they hold grants on and a member of no deal team (so every
inclusionary wall screens them), and *clear*, a member of every deal team and
named by no wall (their screen is empty, though the walls are read for them).

Then, every run, with no wall in force and again after erecting the walls (made
anew each run: 70% exclusionary naming 1-5 people, 30% inclusionary naming a deal
team, half around a matter and half around a whole client, plus lifted ones),
it measures, each call inside a fresh request scope as a page's first question:

1. ``can(person, view, matter)`` for walled on a granted matter no wall touches
   and on one an exclusionary wall names them around, and for clear;
2. ``screen_of(person)`` for both;
3. the matter list's database work as ``matters.views.matter_list`` does it
   (``count_visible_matters``, then the first page of ``visible_matters`` with the
   count, its ``select_related`` and order) for both, for a sample of ordinary
   people (about 100 grants each) and the count alone.

Prints a table and a PASS/FAIL line per check: the answers against a plain
reading of the walls, and the matter list's targets of issue 2 (bench/README.md)
with walls in force. Writes JSON to ``bench/results/``. Exits 1 when a check
fails, 2 when the benchmark cannot run. See bench/README.md, "Walls".
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.generate import LEVEL_SHARES, BenchSetupError, database_url, prepare
from bench.run import RESULTS_DIR, Clock, exit_status, publish

DEFAULT_DATABASE = "custos_bench_walls"
USER_PREFIX = "walls-bench-"
WALLED_USERNAME = "walls-bench-walled"
CLEAR_USERNAME = "walls-bench-clear"
TEAM_PREFIX = "walls-bench-team-"
DEAL_PREFIX = "walls-bench-deal-"
CLIENT_PREFIX = "WB-C-"
MATTER_PREFIX = "WB-"
SEED = 7
TYPICAL_SAMPLE = 10
# The matter list's targets of issue 2 (bench/README.md), checked with walls in force:
# (label, measurement, limit in ms at p95).
TARGETS = (
    ("list p95 ≤ 30 ms, walled person (page + count)", "walls.list.walled", 30),
    ("list p95 ≤ 30 ms, clear person (page + count)", "walls.list.clear", 30),
    ("list p95 ≤ 30 ms, ordinary people (page + count)", "walls.list.typical", 30),
    ("count p95 ≤ 5 ms, walled person", "walls.count.walled", 5),
    ("count p95 ≤ 5 ms, clear person", "walls.count.clear", 5),
)


@dataclass(frozen=True)
class WallsPlan:
    """How much to generate. The defaults are a fifth of issue 7's firm, with its walls in full."""

    matters: int = 20_000
    clients: int = 2_000
    users: int = 2_000  # the two timed people included
    grants: int = 200_000  # person grants, one per person and matter, the timed people's included
    heavy_grants: int = 2_000  # each timed person's (the same matters for both)
    teams: int = 100
    team_grants: int = 20_000
    deal_teams: int = 30  # the teams inclusionary walls name; half the people are in one
    walls: int = 1_000  # live walls
    exclusionary_share: float = 0.7
    matter_share: float = 0.5  # the rest are around a whole client
    max_named: int = 5  # people an exclusionary wall names
    lifted: int = 300
    walled_by: int = 6  # exclusionary walls naming the walled person (of ``walls``)
    expired_share: float = 0.03  # ordinary people's grants that have ended (rows still stored)
    rounds: int = 200  # timed calls per case
    warmup: int = 10  # untimed calls first (connection, caches: what a serving process has done)

    @classmethod
    def tiny(cls) -> WallsPlan:
        """Seconds on SQLite or PostgreSQL: proves the machinery, measures nothing (the smoke test)."""
        return cls(
            matters=300,
            clients=30,
            users=30,
            grants=1_200,
            heavy_grants=60,
            teams=3,
            team_grants=60,
            deal_teams=3,
            walls=40,
            lifted=10,
            walled_by=4,
            rounds=3,
            warmup=1,
        )

    def check(self) -> None:
        """Refuse a plan that cannot be generated."""
        others = self.users - 2
        per_person = -(-(self.grants - 2 * self.heavy_grants) // max(1, others))
        problems = []
        if others < self.max_named or per_person > self.matters or per_person < 1:
            problems.append(f"{per_person} grants per person do not fit in {self.matters} matters (one per matter)")
        if not 2 * self.walled_by <= self.heavy_grants <= self.matters:
            problems.append("the timed people need 2 x walled_by to min(matters) grants")
        if not self.walled_by <= round(self.walls * self.exclusionary_share) < self.walls:
            problems.append("the walls must hold walled_by exclusionary ones and at least one inclusionary")
        if self.team_grants > self.teams * self.matters or self.deal_teams < 1 or self.teams < 1:
            problems.append("more team grants than teams x matters, or no team")
        if self.clients < 2 or self.clients > self.matters:
            problems.append("between 2 clients and one per matter")
        if problems:
            raise BenchSetupError("Impossible plan: " + "; ".join(problems) + ".")


# --- The firm: people, teams, clients, matters, grants (made once, kept by --skip-generate) ---


@dataclass
class World:
    users: list[int]  # ordinary people, by id
    walled: object  # User
    clear: object  # User
    deals: list[int]  # deal teams, by id
    client_of: dict  # matter id -> client id
    heavy: list  # the timed people's matters (the same for both)
    groups_of: dict = field(default_factory=dict)  # user id -> set of group ids (for the plain reading)


def _levels(rng: random.Random) -> Callable[[], str]:
    codenames = [codename for codename, _share in LEVEL_SHARES]
    weights = [share for _codename, share in LEVEL_SHARES]
    return lambda: rng.choices(codenames, weights)[0]


def _insert_grants(model, grantee: str, rows: list[tuple]) -> None:
    """``rows`` of (who, matter, level codename, created_at, expires_at), by level through bench.grants' COPY."""
    from django.contrib.auth.models import Permission

    from bench.grants import _insert

    ids = dict(Permission.objects.filter(content_type__app_label="matters").values_list("codename", "id"))
    by_level = defaultdict(list)
    for who, matter, level, created_at, expires_at in rows:
        by_level[level].append((who, matter, created_at, expires_at))
    for level, level_rows in by_level.items():
        _insert(model, grantee, ids[level], level_rows)


def _people(plan: WallsPlan, rng: random.Random) -> tuple[list[int], int, int, list[int]]:
    """Ordinary people, walled, clear and the teams (deal teams apart); returns (ordinary, walled, clear, teams)."""
    from django.contrib.auth.models import Group

    from access.models import User

    names = [f"{USER_PREFIX}{n:05d}" for n in range(plan.users - 2)] + [WALLED_USERNAME, CLEAR_USERNAME]
    # "!" is Django's unusable password: these people never sign in.
    User.objects.bulk_create(
        [User(username=name, first_name="Walls", last_name=name[-5:], password="!") for name in names],  # noqa: S106
        batch_size=1000,
    )
    ids = dict(User.objects.filter(username__startswith=USER_PREFIX).values_list("username", "id"))
    ordinary, walled, clear = [ids[name] for name in names[:-2]], ids[WALLED_USERNAME], ids[CLEAR_USERNAME]
    team_names = [f"{TEAM_PREFIX}{n:03d}" for n in range(plan.teams)]
    deal_names = [f"{DEAL_PREFIX}{n:03d}" for n in range(plan.deal_teams)]
    Group.objects.bulk_create([Group(name=name) for name in team_names + deal_names])
    groups = dict(Group.objects.filter(name__in=team_names + deal_names).values_list("name", "id"))
    teams, deals = [groups[n] for n in team_names], [groups[n] for n in deal_names]
    # Everyone in one team (the timed people in the first); half the ordinary people in a
    # deal team; clear in every deal team, walled in none.
    pairs = [(user, teams[n % len(teams)]) for n, user in enumerate([walled, clear, *ordinary])]
    pairs += [(user, rng.choice(deals)) for user in ordinary if rng.random() < 0.5]
    pairs += [(clear, deal) for deal in deals]
    Membership = User.groups.through
    Membership.objects.bulk_create([Membership(user_id=u, group_id=g) for u, g in pairs], batch_size=5000)
    return ordinary, walled, clear, teams


def _matters(plan: WallsPlan, rng: random.Random, today: datetime.date) -> list:
    """Clients and their matters; returns the matter ids in number order."""
    from matters.models import Classification, Client, Matter, PracticeArea

    # bulk_create still seals each name and title (each client gets its data key on first use).
    Client.objects.bulk_create(
        [Client(code=f"{CLIENT_PREFIX}{n:05d}", name=f"Walls Bench Client {n} Ltd.") for n in range(plan.clients)],
        batch_size=1000,
    )
    clients = list(Client.objects.filter(code__startswith=CLIENT_PREFIX).order_by("code").values_list("pk", flat=True))
    # Opened over twelve years and stored in that order, as a live table holds them.
    opened = sorted(today - datetime.timedelta(days=rng.randrange(4380)) for _ in range(plan.matters))
    areas, levels = list(PracticeArea.values), (Classification.INTERNAL, Classification.CONFIDENTIAL)
    Matter.objects.bulk_create(
        [
            Matter(
                number=f"{MATTER_PREFIX}{n:07d}",
                title=f"Walls bench matter {n}",
                client_id=rng.choice(clients),
                practice_area=rng.choice(areas),
                classification=rng.choice(levels),
                opened_on=opened_on,
            )
            for n, opened_on in enumerate(opened)
        ],
        batch_size=1000,
    )
    return list(Matter.objects.filter(number__startswith=MATTER_PREFIX).order_by("number").values_list("pk", flat=True))


def make_world(plan: WallsPlan, log: Callable[[str], None]) -> None:
    """Generate the firm into the connected database (which holds no bench data yet)."""
    from django.db import transaction
    from django.utils import timezone

    from access.models import MatterGroupGrant, MatterUserGrant

    started = time.perf_counter()
    rng = random.Random(SEED)
    level = _levels(rng)
    now, day = timezone.now(), datetime.timedelta(days=1)
    with transaction.atomic():
        ordinary, walled, clear, teams = _people(plan, rng)
        matters = _matters(plan, rng, now.date())
        heavy = rng.sample(matters, plan.heavy_grants)
        rows = [(who, m, level(), now - rng.uniform(1, 365) * day, None) for who in (walled, clear) for m in heavy]
        remaining = plan.grants - 2 * plan.heavy_grants
        for n, user in enumerate(ordinary):
            for matter in rng.sample(matters, remaining // len(ordinary) + (1 if n < remaining % len(ordinary) else 0)):
                ended = rng.random() < plan.expired_share
                expires_at = now - rng.uniform(1, 90) * day if ended else None
                rows.append((user, matter, level(), now - rng.uniform(91, 365) * day, expires_at))
        rng.shuffle(rows)  # stored in no particular order, as a live table holds them
        _insert_grants(MatterUserGrant, "user_id", rows)
        team_pairs = set()
        while len(team_pairs) < plan.team_grants:
            team_pairs.add((rng.choice(teams), rng.choice(matters)))
        team_rows = [(g, m, level(), now - rng.uniform(1, 365) * day, None) for g, m in team_pairs]
        rng.shuffle(team_rows)
        _insert_grants(MatterGroupGrant, "group_id", team_rows)
    log(
        f"  {plan.users:,} people, {plan.teams} teams, {plan.deal_teams} deal teams, {plan.clients:,} clients, "
        f"{plan.matters:,} matters, {len(rows):,} person and {len(team_rows):,} team grants "
        f"in {time.perf_counter() - started:.1f} s"
    )


def load_world() -> World:
    """The firm an earlier call of :func:`make_world` left in the database."""
    from django.contrib.auth.models import Group

    from access.models import MatterUserGrant, User
    from matters.models import Matter

    people = {u.username: u for u in User.objects.filter(username__in=[WALLED_USERNAME, CLEAR_USERNAME])}
    if len(people) != 2:
        raise BenchSetupError("The database holds no walls benchmark data: run without --skip-generate.")
    groups_of = defaultdict(set)
    memberships = User.groups.through.objects.filter(user__username__startswith=USER_PREFIX)
    for user, group in memberships.values_list("user_id", "group_id"):
        groups_of[user].add(group)
    return World(
        users=list(
            User.objects.filter(username__startswith=USER_PREFIX)
            .exclude(username__in=[WALLED_USERNAME, CLEAR_USERNAME])
            .order_by("username")
            .values_list("pk", flat=True)
        ),
        walled=people[WALLED_USERNAME],
        clear=people[CLEAR_USERNAME],
        deals=list(Group.objects.filter(name__startswith=DEAL_PREFIX).order_by("name").values_list("pk", flat=True)),
        client_of=dict(
            Matter.objects.filter(number__startswith=MATTER_PREFIX).order_by("number").values_list("pk", "client_id")
        ),
        heavy=sorted(
            MatterUserGrant.objects.filter(user__username=WALLED_USERNAME).values_list("content_object_id", flat=True),
            key=str,
        ),
        groups_of=dict(groups_of),
    )


def ensure_world(plan: WallsPlan, log: Callable[[str], None]) -> World:
    from access.models import User

    if not User.objects.filter(username=WALLED_USERNAME).exists():
        make_world(plan, log)
        analyze()
    else:
        log("  reusing the firm already generated")
    return load_world()


# --- The walls (made anew every run) ---------------------------------------------------------


@dataclass(frozen=True)
class WallSpec:
    kind: str
    client: object
    matter: object | None
    people: tuple = ()
    groups: tuple = ()
    lifted: bool = False


def _quote(name: str) -> str:
    from django.db import connection

    return connection.ops.quote_name(name)


def clear_walls() -> None:
    """The bench clients' walls from an earlier run. Raw DELETEs: bench bookkeeping, not a change anyone audits."""
    from django.db import connection

    from access.models import EthicalWall, WallAcknowledgement, WallMember
    from matters.models import Client

    walls = (
        f"SELECT id FROM {_quote(EthicalWall._meta.db_table)} WHERE client_id IN "
        f"(SELECT id FROM {_quote(Client._meta.db_table)} WHERE code LIKE %s)"
    )
    with connection.cursor() as cursor:
        for model in (WallMember, WallAcknowledgement):
            cursor.execute(
                f"DELETE FROM {_quote(model._meta.db_table)} WHERE wall_id IN ({walls})", [CLIENT_PREFIX + "%"]
            )
        cursor.execute(f"DELETE FROM {_quote(EthicalWall._meta.db_table)} WHERE id IN ({walls})", [CLIENT_PREFIX + "%"])


def plan_walls(plan: WallsPlan, world: World) -> list[WallSpec]:
    """Live walls, walled's first, then the lifted ones."""
    from access.models import WallKind

    rng = random.Random(SEED + 1)
    matters = list(world.client_of)
    walled = world.walled.pk

    def target(around_matter: bool) -> tuple:
        """(client, matter), or (client, None): around a random matter, or around its whole client."""
        matter = rng.choice(matters)
        return world.client_of[matter], matter if around_matter else None

    def named():
        return tuple(rng.sample(world.users, rng.randint(1, plan.max_named)))

    specs = []
    # Walled's: around matters they hold grants on, and around those matters' clients.
    for n, matter in enumerate(rng.sample(world.heavy, plan.walled_by)):
        client, around = world.client_of[matter], matter if n % 2 == 0 else None
        specs.append(WallSpec(WallKind.EXCLUSIONARY, client, around, people=(walled, *named()[:-1])))
    exclusionary = round(plan.walls * plan.exclusionary_share)
    for _ in range(exclusionary - plan.walled_by):
        specs.append(WallSpec(WallKind.EXCLUSIONARY, *target(rng.random() < plan.matter_share), people=named()))
    for _ in range(plan.walls - exclusionary):
        specs.append(
            WallSpec(
                WallKind.INCLUSIONARY, *target(rng.random() < plan.matter_share), groups=(rng.choice(world.deals),)
            )
        )
    for _ in range(plan.lifted):
        kind = WallKind.EXCLUSIONARY if rng.random() < plan.exclusionary_share else WallKind.INCLUSIONARY
        # A lifted wall may name anyone, walled included: it must change nothing.
        people = (walled, *named()) if kind == WallKind.EXCLUSIONARY else ()
        groups = () if kind == WallKind.EXCLUSIONARY else (rng.choice(world.deals),)
        specs.append(WallSpec(kind, *target(rng.random() < plan.matter_share), people, groups, lifted=True))
    return specs


def make_walls(specs: list[WallSpec], log: Callable[[str], None]) -> dict:
    """Erect ``specs`` (bulk inserts; each reason and memo sealed under its client's key)."""
    from django.db import transaction
    from django.utils import timezone

    from access.models import EthicalWall, WallMember

    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        walls = EthicalWall.objects.bulk_create(
            [
                EthicalWall(
                    kind=spec.kind,
                    client_id=spec.client,
                    matter_id=spec.matter,
                    reason="Acting for the other side in a related dispute",
                    memo="Do not discuss this matter with anyone named.",
                    erected_at=now - datetime.timedelta(days=30),
                    lifted_at=now - datetime.timedelta(days=1) if spec.lifted else None,
                )
                for spec in specs
            ],
            batch_size=1000,
        )
        WallMember.objects.bulk_create(
            [
                WallMember(wall=wall, **{key: value})
                for wall, spec in zip(walls, specs, strict=True)
                for key, value in [*(("user_id", p) for p in spec.people), *(("group_id", g) for g in spec.groups)]
            ],
            batch_size=5000,
        )
    analyze()
    live = [spec for spec in specs if not spec.lifted]
    counts = {
        "live_walls": len(live),
        "exclusionary": sum(spec.kind == "exclusionary" for spec in live),
        "inclusionary": sum(spec.kind == "inclusionary" for spec in live),
        "around_matters": sum(spec.matter is not None for spec in live),
        "around_clients": sum(spec.matter is None for spec in live),
        "lifted_walls": len(specs) - len(live),
        "members": sum(len(spec.people) + len(spec.groups) for spec in specs),
    }
    log(
        f"  {counts['live_walls']:,} live walls ({counts['exclusionary']:,} exclusionary, {counts['inclusionary']:,} "
        f"inclusionary; {counts['around_matters']:,} around a matter, {counts['around_clients']:,} around a client), "
        f"{counts['lifted_walls']:,} lifted, in {time.perf_counter() - started:.1f} s"
    )
    return counts


def analyze() -> None:
    """Fresh planner statistics (VACUUM too outside a transaction, as the steady state)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute("VACUUM (ANALYZE)")
        else:
            cursor.execute("ANALYZE")


# --- What the answers must be: the walls read plainly -------------------------------------------


def expected_screen(specs: list[WallSpec], world: World, user) -> tuple[set, set]:
    """(matter ids, client ids) the live walls in ``specs`` keep from ``user``, worked out in Python."""
    groups = world.groups_of.get(user.pk, set())
    matters, clients = set(), set()
    for spec in specs:
        if spec.lifted:
            continue
        named = user.pk in spec.people or bool(groups & set(spec.groups))
        if named == (spec.kind == "exclusionary"):
            (matters.add(spec.matter) if spec.matter is not None else clients.add(spec.client))
    return matters, clients


def expected_list(user, screen: tuple[set, set], page: int) -> tuple[int, list]:
    """The count and first page the list must show ``user``: live grants (theirs and their teams'),
    less what the screen keeps, in the list's order — read without the policy."""
    from django.db.models import Q
    from django.utils import timezone

    from access.models import MatterGroupGrant, MatterUserGrant, User
    from matters.models import Matter

    live = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    groups = User.groups.through.objects.filter(user_id=user.pk).values_list("group_id", flat=True)
    granted = set(MatterUserGrant.objects.filter(live, user_id=user.pk).values_list("content_object_id", flat=True))
    granted |= set(
        MatterGroupGrant.objects.filter(live, group_id__in=list(groups)).values_list("content_object_id", flat=True)
    )
    rows = Matter.objects.filter(pk__in=granted).values_list("pk", "client_id", "opened_on", "number")
    kept = [row for row in rows if row[0] not in screen[0] and row[1] not in screen[1]]
    kept.sort(key=lambda row: (-row[2].toordinal(), row[3]))
    return len(kept), [row[0] for row in kept[:page]]


# --- Measurements ---------------------------------------------------------------------------


def in_a_request(user, ask: Callable[[], object]) -> Callable[[], object]:
    """``ask`` as a page's first question: inside a request scope of its own, so the walls are
    read for it as a request reads them (once, then memoised for the rest of the request)."""
    from django.test import RequestFactory

    from audit.events import request_scope

    def run():
        request = RequestFactory().get("/")
        request.user = user
        with request_scope(request):
            return ask()

    return run


def list_page(user, page: int) -> tuple[int, tuple]:
    """The list view's database work (matters.views.matter_list): the count, then the first page."""
    from access.policy import count_visible_matters, visible_matters

    count = count_visible_matters(user)
    matters = visible_matters(user, known_count=count).select_related("client", "responsible_partner")
    return count, tuple(m.pk for m in matters.order_by("-opened_on", "number")[:page])


def cases(world: World, subjects: dict) -> dict[str, Callable[[], object]]:
    from django.conf import settings

    from access.policy import Action, can, count_visible_matters
    from access.walls import screen_of

    page = settings.MATTERS_PAGE_SIZE
    walled, clear = world.walled, world.clear
    allowed, screened = subjects["allowed"], subjects["screened"]
    typical = itertools.cycle(subjects["typical"])

    def typical_list():
        user = next(typical)
        return in_a_request(user, lambda: list_page(user, page)[0])()

    def screen(user):
        found = screen_of(user)
        return len(found.matter_ids), len(found.client_ids)

    return {
        "can.walled.allowed": in_a_request(walled, lambda: bool(can(walled, Action.VIEW, allowed))),
        "can.walled.screened": in_a_request(walled, lambda: bool(can(walled, Action.VIEW, screened))),
        "can.clear.allowed": in_a_request(clear, lambda: bool(can(clear, Action.VIEW, allowed))),
        "screen_of.walled": lambda: screen(walled),
        "screen_of.clear": lambda: screen(clear),
        "count.walled": in_a_request(walled, lambda: count_visible_matters(walled)),
        "count.clear": in_a_request(clear, lambda: count_visible_matters(clear)),
        # Answers the page's length and the count (the first page itself is checked once, below).
        "list.walled": in_a_request(walled, lambda: (lambda c, p: (c, len(p)))(*list_page(walled, page))),
        "list.clear": in_a_request(clear, lambda: (lambda c, p: (c, len(p)))(*list_page(clear, page))),
        "list.typical": typical_list,
    }


def choose_subjects(world: World, specs: list[WallSpec]) -> dict:
    """What is timed: a matter of walled's that no live wall keeps from them, the first matter an
    exclusionary wall keeps from them, and a sample of ordinary people for the list."""
    from access.models import User
    from matters.models import Matter

    kept_matters, kept_clients = expected_screen(specs, world, world.walled)
    quiet = next((m for m in world.heavy if m not in kept_matters and world.client_of[m] not in kept_clients), None)
    if quiet is None:
        raise BenchSetupError("Every matter of the timed people is walled off: fewer walls or more grants.")
    screened = next(spec.matter for spec in specs if spec.matter and world.walled.pk in spec.people)
    step = max(1, len(world.users) // TYPICAL_SAMPLE)
    typical = list(User.objects.filter(pk__in=world.users[::step][:TYPICAL_SAMPLE]).order_by("username"))
    found = Matter.objects.select_related("client").in_bulk([quiet, screened])
    return {"allowed": found[quiet], "screened": found[screened], "typical": typical}


def measure(plan: WallsPlan, world: World, subjects: dict, phase: str, log: Callable[[str], None]) -> dict:
    from bench.training import timed

    out = {}
    for name, run in cases(world, subjects).items():
        log(f"  {phase}: {name} ({plan.rounds} rounds) …")
        out[name] = timed(run, plan.rounds, plan.warmup)
    return out


def explain_list(world: World) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the walled person's list and count, walls in force (PostgreSQL)."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    from bench.run import explain

    user = world.walled
    return {"list.walled": explain(in_a_request(user, lambda: list_page(user, settings.MATTERS_PAGE_SIZE)))}


def correctness(world: World, specs: list[WallSpec], subjects: dict) -> dict:
    """The policy's answers beside the plain reading of the walls (outside the timing)."""
    from django.conf import settings

    from access.walls import screen_of

    page = settings.MATTERS_PAGE_SIZE
    out = {}
    for label, user in (("walled", world.walled), ("clear", world.clear), ("typical", subjects["typical"][0])):
        screen = expected_screen(specs, world, user)
        found = screen_of(user)
        count, first = expected_list(user, screen, page)
        listed = in_a_request(user, lambda u=user: list_page(u, page))()
        out[label] = {
            "screen_matches": (set(found.matter_ids), set(found.client_ids)) == screen,
            "screen": [len(screen[0]), len(screen[1])],
            "expected_count": count,
            "count": listed[0],
            "first_page_matches": list(listed[1]) == first,
        }
    return out


# --- Report ---------------------------------------------------------------------------------


def evaluate(result: dict) -> list[dict]:
    """What the answers must be, as (check, expected, measured)."""
    m, right = result["measurements"], result["correctness"]
    none, walls = m["none"], m["walls"]
    checks = [
        ("no wall: walled may view both matters", [True], none["can.walled.allowed"]["answers"]),
        ("no wall: walled may view the matter walled later", [True], none["can.walled.screened"]["answers"]),
        ("no wall: walled's screen is empty", [[0, 0]], none["screen_of.walled"]["answers"]),
        ("walls: walled may view the matter no wall keeps", [True], walls["can.walled.allowed"]["answers"]),
        ("walls: the exclusionary wall refuses walled", [False], walls["can.walled.screened"]["answers"]),
        ("walls: clear may view", [True], walls["can.clear.allowed"]["answers"]),
        ("walls: clear's screen is empty", [[0, 0]], walls["screen_of.clear"]["answers"]),
        ("walls: clear's count as without walls", none["count.clear"]["answers"], walls["count.clear"]["answers"]),
        ("walls: walled sees fewer matters than clear", True, right["walled"]["count"] < right["clear"]["count"]),
    ]
    for who, found in right.items():
        checks += [
            (f"walls: {who}'s screen = the walls read plainly", True, found["screen_matches"]),
            (f"walls: {who}'s count = live grants less the screen", found["expected_count"], found["count"]),
            (f"walls: {who}'s first page = the same, in the list's order", True, found["first_page_matches"]),
        ]
    return [
        {"check": label, "expected": expected, "measured": measured, "passed": expected == measured}
        for label, expected, measured in checks
    ]


def targets(result: dict) -> list[dict]:
    """The matter list's targets of issue 2, with walls in force."""
    walls = result["measurements"]["walls"]
    out = []
    for label, name, limit in TARGETS:
        p95 = walls[name.removeprefix("walls.")]["p95_ms"]
        out.append({"target": label, "measurement": name, "value": p95, "limit": limit, "passed": p95 <= limit})
    return out


LABELS = {
    "can.walled.allowed": "can(view), walled, a matter no wall keeps",
    "can.walled.screened": "can(view), walled, a matter walled off",
    "can.clear.allowed": "can(view), clear",
    "screen_of.walled": "screen_of(), walled",
    "screen_of.clear": "screen_of(), clear",
    "count.walled": "count_visible_matters(), walled",
    "count.clear": "count_visible_matters(), clear",
    "list.walled": "list page + count, walled",
    "list.clear": "list page + count, clear",
    "list.typical": "list page + count, ordinary people",
}


def format_report(result: dict) -> str:
    m, f, d = result["measurements"], result["facts"], result["data"]
    server = f"PostgreSQL {f['server_version']}" if f["vendor"] == "postgresql" else f["vendor"]
    right = result["correctness"]
    lines = [
        "",
        f"Walls benchmark · {server} · {f['cpus']} CPUs · load average "
        f"{result['load_average']['before']:.1f} before, {result['load_average']['after']:.1f} after",
        f"{result['plan']['matters']:,} matters, {result['plan']['clients']:,} clients, {result['plan']['users']:,} "
        f"people, {result['plan']['grants']:,} person grants; {d['live_walls']:,} live walls ({d['exclusionary']:,} "
        f"exclusionary, {d['inclusionary']:,} inclusionary), {d['lifted_walls']:,} lifted",
        f"walled is screened from {right['walled']['screen'][0]:,} matters and {right['walled']['screen'][1]:,} "
        f"clients and sees {right['walled']['count']:,} matters; clear sees {right['clear']['count']:,}",
        "",
        f"{'measurement (ms)':<48}{'no walls p50':>13}{'p95':>8}{'stmts':>6}{'walls p50':>11}{'p95':>8}{'stmts':>6}",
    ]
    for name, label in LABELS.items():
        before, after = m["none"][name], m["walls"][name]
        lines.append(
            f"  {label:<46}{before['p50_ms']:>13.2f}{before['p95_ms']:>8.2f}{before['statements']:>6}"
            f"{after['p50_ms']:>11.2f}{after['p95_ms']:>8.2f}{after['statements']:>6}"
        )
    lines += ["", "Targets (issue 2's matter list, walls in force):"]
    for target in result["targets"]:
        verdict = "PASS" if target["passed"] else "FAIL"
        lines.append(f"  {verdict}  {target['target']:<60} measured {target['value']:.2f} ms")
    lines += ["", "Checks:"]
    for check in result["checks"]:
        verdict = "PASS" if check["passed"] else "FAIL"
        lines.append(f"  {verdict}  {check['check']:<60} expected {check['expected']}, measured {check['measured']}")
    return "\n".join(lines)


def run_walls_benchmark(
    *, plan: WallsPlan | None = None, output_dir: Path = RESULTS_DIR, log: Callable[[str], None] = print
) -> dict:
    """Make the firm (unless there), measure without and with walls; print and write the JSON."""
    from bench.grants import facts

    plan = plan or WallsPlan()
    plan.check()
    clock = Clock()
    log("People, teams, clients, matters, grants …")
    world = ensure_world(plan, log)
    clear_walls()
    analyze()
    specs = plan_walls(plan, world)
    subjects = choose_subjects(world, specs)
    log("No wall in force …")
    measurements = {"none": measure(plan, world, subjects, "no walls", log)}
    log("Walls …")
    counts = make_walls(specs, log)
    measurements["walls"] = measure(plan, world, subjects, "walls", log)
    result = clock.result(
        plan,
        facts(),
        data=counts,
        measurements=measurements,
        correctness=correctness(world, specs, subjects),
        explain=explain_list(world),
    )
    result["checks"] = evaluate(result)
    result["targets"] = targets(result)
    return publish(result, format_report(result), output_dir, "walls", log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.walls", description=__doc__.split("\n\n")[0])
    defaults = WallsPlan()
    parser.add_argument("--database", default=DEFAULT_DATABASE, help=f"database to use (default {DEFAULT_DATABASE})")
    parser.add_argument("--matters", type=int, default=defaults.matters, help="matters (default 20,000)")
    parser.add_argument("--clients", type=int, default=defaults.clients, help="clients (default 2,000)")
    parser.add_argument("--users", type=int, default=defaults.users, help="people (default 2,000)")
    parser.add_argument("--grants", type=int, default=defaults.grants, help="person grants (default 200,000)")
    parser.add_argument("--walls", type=int, default=defaults.walls, help="live walls (default 1,000)")
    parser.add_argument("--lifted", type=int, default=defaults.lifted, help="lifted walls (default 300)")
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help="timed calls per case (default 200)")
    parser.add_argument("--skip-generate", action="store_true", help="reuse the firm (the walls are made anew)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="folder for the JSON result")
    args = parser.parse_args(argv)
    plan = replace(
        defaults,
        matters=args.matters,
        clients=args.clients,
        users=args.users,
        grants=args.grants,
        walls=args.walls,
        lifted=args.lifted,
        rounds=args.rounds,
    )

    def run() -> dict:
        plan.check()
        prepare(database_url(), args.database, recreate=not args.skip_generate)
        return run_walls_benchmark(plan=plan, output_dir=args.output)

    return exit_status(run, "checks", "targets")


if __name__ == "__main__":
    sys.exit(main())
