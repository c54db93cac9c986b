"""Benchmark the daily grant job: 100,000 person grants, 10,000 of them expired, 5,000 ending within the week.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.grants [--grants N]
        [--expired N] [--expiring N] [--skip-generate]

Creates its own database (``custos_bench_grants``), migrates it, adds people,
teams and matters (bulk inserts, not services), then, every run, a fresh set of
grants (COPY on PostgreSQL): 10,000 expired, 5,000 ending within
``ACCESS_EXPIRY_WARNING_DAYS``, a fifth without an end, the rest ending over
the next 90 days, plus a few hundred team grants that stay live. Then it
measures, in this order:

1. ``can()`` for a person holding 2,000 grants: on a matter of a live grant and
   on one whose grant has expired but is still stored (the policy compares the
   end with the clock, so the answer must not wait for the job);
2. ``access.expiry.expire_grants()``: wall time, split into removal (person and
   team grants), warnings and lapsing, statements sent, peak RSS growth, audit
   events, notifications and e-mails written (locmem backend);
3. the same job again, with nothing left to do (the idle daily cost);
4. ``can()`` again, now that the expired grant's row is gone.

Prints a table and a PASS/FAIL line per check (the counts the job must reach),
writes JSON to ``bench/results/``. Exits 1 when a check fails, 2 when the
benchmark cannot run. ``--skip-generate`` reuses the people and matters; the
grants are made anew every run, since the job consumes them. See
bench/README.md, "Grants".
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bench.generate import BenchSetupError, database_url, prepare
from bench.run import RESULTS_DIR, Clock, exit_status, publish, summarise

DEFAULT_DATABASE = "custos_bench_grants"
USER_PREFIX = "grants-bench-"
HEAVY_USERNAME = "grants-bench-heavy"
GROUP_PREFIX = "grants-bench-team-"
CLIENT_CODE = "GB-C-1"
MATTER_PREFIX = "GB-"
SEED = 5
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MIB = 1024 * 1024


@dataclass(frozen=True)
class GrantsPlan:
    """How much to generate. The defaults are issue 5's sizes."""

    grants: int = 100_000  # person grants, one per person and matter
    expired: int = 10_000  # ended before the job runs
    expiring: int = 5_000  # ending within the warning window (7 days)
    no_end_share: float = 0.2  # grants without an end
    users: int = 1_000
    matters: int = 5_000
    heavy_grants: int = 2_000  # the person whose decisions are timed (counted in ``grants``)
    groups: int = 20
    group_grants: int = 300  # team grants: all live, none within the window
    decisions: int = 200  # timed can() calls per case, before and after the job
    decision_warmup: int = 10  # untimed rounds first (connection, caches: what a serving process has done)

    @classmethod
    def tiny(cls) -> GrantsPlan:
        """Seconds on SQLite or PostgreSQL: proves the machinery, measures nothing (the smoke test)."""
        return cls(
            grants=500,
            expired=50,
            expiring=25,
            users=10,
            matters=200,
            heavy_grants=60,
            groups=3,
            group_grants=30,
            decisions=5,
            decision_warmup=1,
        )

    def check(self) -> None:
        """Refuse a plan that cannot be generated (one grant per person and matter)."""
        others = self.users - 1
        per_person = -(-(self.grants - self.heavy_grants) // max(1, others))
        problems = []
        if self.expired < 1 or self.expired + self.expiring + round(self.grants * self.no_end_share) > self.grants:
            problems.append("expired + expiring + grants without an end must fit in the grants, at least one expired")
        if not 2 <= self.heavy_grants <= min(self.matters, self.grants):
            problems.append("the heavy person needs 2 to min(matters, grants) grants")
        if others < 1 or per_person > self.matters:
            problems.append(f"{per_person} grants per person do not fit in {self.matters} matters (one per matter)")
        if self.group_grants > self.groups * (self.matters - 2):
            problems.append("more team grants than teams x matters")
        if problems:
            raise BenchSetupError("Impossible plan: " + "; ".join(problems) + ".")


# --- The world: people, teams, matters (made once, kept by --skip-generate) ------------------


@dataclass
class World:
    users: list[int]  # ordinary people, by id
    heavy: object  # the User timed in the decisions
    groups: list[int]
    matters: list  # Matter ids (UUIDs), in number order


def ensure_world(plan: GrantsPlan, log: Callable[[str], None]) -> World:
    """People, teams and matters of ``plan``; what an earlier run made is reused, what is missing added."""
    from django.contrib.auth.models import Group

    from access.models import User
    from matters.models import Classification, Client, Matter, PracticeArea

    started = time.perf_counter()
    wanted = [f"{USER_PREFIX}{n:05d}" for n in range(plan.users - 1)]
    have = set(User.objects.filter(username__startswith=USER_PREFIX).values_list("username", flat=True))
    # "!" is Django's unusable password: these people never sign in. Active, with an address:
    # each warning is a notification and an e-mail, as for a real holder.
    User.objects.bulk_create(
        [
            User(username=name, first_name="Grants", last_name=name[-5:], email=f"{name}@example.test", password="!")  # noqa: S106
            for name in [*wanted, HEAVY_USERNAME]
            if name not in have
        ],
        batch_size=1000,
    )
    ids = dict(User.objects.filter(username__startswith=USER_PREFIX).values_list("username", "id"))
    group_names = [f"{GROUP_PREFIX}{n:03d}" for n in range(plan.groups)]
    have_groups = set(Group.objects.filter(name__in=group_names).values_list("name", flat=True))
    Group.objects.bulk_create([Group(name=name) for name in group_names if name not in have_groups])
    groups = dict(Group.objects.filter(name__in=group_names).values_list("name", "id"))
    # Everyone in one team (the heavy person in the first), so every decision looks at team grants too.
    members = [(ids[name], groups[group_names[n % plan.groups]]) for n, name in enumerate([HEAVY_USERNAME, *wanted])]
    Membership = User.groups.through
    Membership.objects.bulk_create(
        [Membership(user_id=user, group_id=group) for user, group in members], ignore_conflicts=True
    )

    client = Client.objects.filter(code=CLIENT_CODE).first() or Client.objects.create(
        code=CLIENT_CODE, name="Grants Bench Holdings Ltd."
    )
    numbers = [f"{MATTER_PREFIX}{n:06d}" for n in range(plan.matters)]
    have_matters = set(Matter.objects.filter(number__startswith=MATTER_PREFIX).values_list("number", flat=True))
    levels = (Classification.INTERNAL, Classification.CONFIDENTIAL, Classification.CONFIDENTIAL)
    # bulk_create still seals each title (the encrypted field prepares every value).
    Matter.objects.bulk_create(
        [
            Matter(
                number=number,
                title=f"Grants bench matter {number}",
                client=client,
                practice_area=PracticeArea.LITIGATION,
                classification=levels[n % len(levels)],
            )
            for n, number in enumerate(numbers)
            if number not in have_matters
        ],
        batch_size=1000,
    )
    matters = list(Matter.objects.filter(number__in=numbers).order_by("number").values_list("pk", flat=True))
    seconds = time.perf_counter() - started
    log(f"  {plan.users:,} people, {plan.groups} teams, {plan.matters:,} matters in {seconds:.1f} s")
    return World(
        users=[ids[name] for name in wanted],
        heavy=User.objects.get(pk=ids[HEAVY_USERNAME]),
        groups=[groups[name] for name in group_names],
        matters=matters,
    )


# --- The grants (made anew every run: the job consumes them) ----------------------------------


@dataclass
class Made:
    live_matter: object  # a matter the heavy person holds a grant without end on
    expired_matter: object  # a matter whose grant of theirs has ended (the row still there)
    counts: dict


def _person_grants(plan: GrantsPlan, world: World, now: datetime.datetime, rng: random.Random):
    """(user id, matter id, created_at, expires_at) rows, in a random order, and the heavy person's two matters."""
    from django.conf import settings

    heavy = world.heavy.pk
    pairs = [(heavy, matter) for matter in world.matters[: plan.heavy_grants]]
    others, remaining = len(world.users), plan.grants - plan.heavy_grants
    for n, user in enumerate(world.users):
        count = remaining // others + (1 if n < remaining % others else 0)
        pairs.extend((user, matter) for matter in rng.sample(world.matters, count))
    no_end = round(plan.grants * plan.no_end_share)
    # The heavy person's first grant has no end, their second has ended: the two timed decisions.
    kinds = ["expired"] * (plan.expired - 1) + ["expiring"] * plan.expiring + ["none"] * (no_end - 1)
    kinds += ["later"] * (plan.grants - 2 - len(kinds))
    rng.shuffle(kinds)
    kinds = ["none", "expired", *kinds]
    window = datetime.timedelta(days=settings.ACCESS_EXPIRY_WARNING_DAYS)
    hour, day = datetime.timedelta(hours=1), datetime.timedelta(days=1)
    # An hour's margin at each edge of the window: a slow run cannot move a grant across one.
    ends = {
        "expired": lambda: now - rng.uniform(60, 60 * 86400) * datetime.timedelta(seconds=1),
        "expiring": lambda: now + hour + rng.random() * (window - 2 * hour),
        "later": lambda: now + window + hour + rng.random() * (90 * day - window - hour),
        "none": lambda: None,
    }
    rows = []
    for (user, matter), kind in zip(pairs, kinds, strict=True):
        expires_at = ends[kind]()
        created_at = min(now, expires_at or now) - rng.uniform(1, 365) * day
        rows.append((user, matter, created_at, expires_at))
    special = (world.matters[0], world.matters[1])
    order = list(range(len(rows)))
    rng.shuffle(order)  # stored in no particular order, as a live table holds them
    return [rows[i] for i in order], special, Counter(kinds)


def _group_grants(plan: GrantsPlan, world: World, now: datetime.datetime, rng: random.Random):
    """(group id, matter id, created_at, expires_at) rows: half without end, the rest ending in 30-90 days."""
    day = datetime.timedelta(days=1)
    # Never on the heavy person's two timed matters: a team grant there would answer for them.
    candidates = world.matters[2:]
    per = {group: set() for group in world.groups}
    for n in range(plan.group_grants):
        group = world.groups[n % len(world.groups)]
        matter = rng.choice(candidates)
        while matter in per[group]:
            matter = rng.choice(candidates)
        per[group].add(matter)
    rows = []
    for group, matters in per.items():
        for matter in sorted(matters):
            expires_at = None if rng.random() < 0.5 else now + rng.uniform(30, 90) * day
            rows.append((group, matter, now - rng.uniform(1, 365) * day, expires_at))
    return rows


def _quote(name: str) -> str:
    from django.db import connection

    return connection.ops.quote_name(name)


def clear_grants() -> None:
    """The bench people's and teams' grants and notifications, from an earlier run.

    Raw DELETEs: bench bookkeeping, not a change anyone audits (a QuerySet.delete()
    would have django-auditlog log every row).
    """
    from django.contrib.auth.models import Group
    from django.db import connection

    from access.models import MatterGroupGrant, MatterUserGrant, Notification, User

    users = f"SELECT id FROM {_quote(User._meta.db_table)} WHERE username LIKE %s"
    groups = f"SELECT id FROM {_quote(Group._meta.db_table)} WHERE name LIKE %s"
    statements = (
        (MatterUserGrant, "user_id", users, USER_PREFIX),
        (MatterGroupGrant, "group_id", groups, GROUP_PREFIX),
        (Notification, "recipient_id", users, USER_PREFIX),
    )
    with connection.cursor() as cursor:
        for model, column, among, prefix in statements:
            # Our own table and column names only; the prefix is a parameter.
            cursor.execute(
                f"DELETE FROM {_quote(model._meta.db_table)} WHERE {_quote(column)} IN ({among})",
                [prefix + "%"],
            )


def _insert(model, grantee: str, permission_id: int, rows: list[tuple]) -> None:
    """COPY on PostgreSQL (no ORM saves), ``bulk_create`` elsewhere."""
    from django.db import connection

    if connection.vendor == "postgresql":
        columns = [grantee, "content_object_id", "permission_id", "reason", "created_at", "expires_at"]
        copy_sql = f"COPY {_quote(model._meta.db_table)} ({', '.join(_quote(c) for c in columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
            for who, matter, created_at, expires_at in rows:
                copy.write_row((who, matter, permission_id, "bench", created_at, expires_at))
        return
    model.objects.bulk_create(
        [
            model(
                **{grantee: who},
                content_object_id=matter,
                permission_id=permission_id,
                reason="bench",
                created_at=created_at,
                expires_at=expires_at,
            )
            for who, matter, created_at, expires_at in rows
        ],
        batch_size=1000,
    )


def make_grants(plan: GrantsPlan, world: World, log: Callable[[str], None]) -> Made:
    """Replace the bench grants with a fresh set timed from now, then refresh the planner's statistics."""
    from django.contrib.auth.models import Permission
    from django.db import connection, transaction
    from django.utils import timezone

    from access.models import GrantLevel, MatterGroupGrant, MatterUserGrant
    from matters.models import Matter

    started = time.perf_counter()
    rng = random.Random(SEED)
    now = timezone.now()
    permission_id = Permission.objects.get(content_type__app_label="matters", codename=GrantLevel.VIEW.value).pk
    person_rows, (live, expired), kinds = _person_grants(plan, world, now, rng)
    team_rows = _group_grants(plan, world, now, rng)
    with transaction.atomic():
        clear_grants()
        _insert(MatterUserGrant, "user_id", permission_id, person_rows)
        _insert(MatterGroupGrant, "group_id", permission_id, team_rows)
    tables = ", ".join(_quote(model._meta.db_table) for model in (MatterUserGrant, MatterGroupGrant))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute(f"VACUUM (ANALYZE) {tables}")
        else:
            cursor.execute("ANALYZE")
    log(
        f"  {len(person_rows):,} person grants ({kinds['expired']:,} expired, {kinds['expiring']:,} ending within "
        f"the warning window, {kinds['none']:,} without end) and {len(team_rows):,} team grants "
        f"in {time.perf_counter() - started:.1f} s"
    )
    counts = {
        "person_grants": len(person_rows),
        "team_grants": len(team_rows),
        "expired": kinds["expired"],
        "expiring": kinds["expiring"],
        "no_end": kinds["none"],
        "later": kinds["later"],
        "heavy_grants": plan.heavy_grants,
    }
    matters = Matter.objects.select_related("client").in_bulk([live, expired])
    return Made(live_matter=matters[live], expired_matter=matters[expired], counts=counts)


# --- Measurements ---------------------------------------------------------------------------


class Statements:
    """Counts what goes to the database (``connection.execute_wrapper``), without DEBUG's query log."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.kinds: Counter[str] = Counter()

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1
            self.kinds[sql.lstrip().split(None, 1)[0].upper()] += 1


@contextlib.contextmanager
def phases_of_the_job(statements: Statements, phases: dict):
    """Time each step ``expire_grants`` takes (it looks them up in its module at every call)."""
    from access import expiry

    def timed(name: str, step):
        def run(*args, **kwargs):
            label = name if name != "_remove_expired" else f"remove.{args[0]._meta.model_name}"
            started, before = time.perf_counter(), statements.count
            rows = step(*args, **kwargs)  # each step answers how many rows it handled
            phase = phases.setdefault(label, {"seconds": 0.0, "statements": 0, "rows": 0})
            phase["seconds"] += time.perf_counter() - started
            phase["statements"] += statements.count - before
            phase["rows"] += rows
            return rows

        return run

    names = ("_remove_expired", "_warn_holders", "_lapse_requests")
    originals = {name: getattr(expiry, name) for name in names}
    for name, step in originals.items():
        setattr(expiry, name, timed(name, step))
    try:
        yield
    finally:
        for name, step in originals.items():
            setattr(expiry, name, step)


def _counts() -> dict:
    from access.models import Notification, NotificationKind
    from audit.actions import AuditAction
    from audit.models import AuditEvent

    return {
        "events": AuditEvent.objects.filter(action=AuditAction.GRANT_EXPIRE).count(),
        "notifications": Notification.objects.filter(kind=NotificationKind.GRANT_EXPIRING).count(),
    }


def run_job(*, sample_memory: bool = True) -> dict:
    """``expire_grants()`` once: its answer, wall time, steps, statements, memory, what it wrote."""
    from django.core import mail
    from django.db import connection

    from access.expiry import expire_grants
    from bench.vault import RssSampler

    statements, phases = Statements(), {}
    mail.outbox = []
    before = _counts()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sampler = RssSampler() if sample_memory else contextlib.nullcontext()
    with sampler as rss, connection.execute_wrapper(statements), phases_of_the_job(statements, phases):
        started = time.perf_counter()
        outcome = expire_grants()
        seconds = time.perf_counter() - started
    after = _counts()
    done = outcome["expired"] + outcome["warned"] + outcome["lapsed"]
    result = {
        "outcome": outcome,
        "seconds": round(seconds, 3),
        "rows_per_s": round(done / seconds) if done else 0,
        "statements": statements.count,
        "statement_kinds": dict(statements.kinds),
        "database_seconds": round(statements.seconds, 3),
        "phases": {
            name: {
                **phase,
                "seconds": round(phase["seconds"], 3),
                "rows_per_s": round(phase["rows"] / phase["seconds"]) if phase["rows"] else 0,
            }
            for name, phase in phases.items()
        },
        "events_written": after["events"] - before["events"],
        "notifications_written": after["notifications"] - before["notifications"],
        "emails_sent": len(getattr(mail, "outbox", [])),
        "maxrss_growth_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss_before,
    }
    if sample_memory:
        result["peak_rss_growth_kib"] = rss.peak_kib - rss.baseline_kib
    return result


def measure_decisions(plan: GrantsPlan, made: Made, person) -> dict:
    """``can(person, view, matter)`` on the live and the ended grant's matters, interleaved.

    Every answer is kept, the warm-up's too: a single wrong one is a failed check.
    """
    from access.policy import Action, can

    samples: dict[str, list[float]] = {"live": [], "expired": []}
    answers: dict[str, set[bool]] = {"live": set(), "expired": set()}
    for round_ in range(plan.decision_warmup + plan.decisions):
        for case, matter in (("live", made.live_matter), ("expired", made.expired_matter)):
            started = time.perf_counter()
            decision = can(person, Action.VIEW, matter)
            elapsed = (time.perf_counter() - started) * 1000
            answers[case].add(bool(decision))
            if round_ >= plan.decision_warmup:
                samples[case].append(elapsed)
    return {case: {**summarise(values), "allowed": sorted(answers[case])} for case, values in samples.items()}


def leftovers() -> dict:
    from django.utils import timezone

    from access.models import MatterGroupGrant, MatterUserGrant

    now = timezone.now()
    return {
        "ended_still_stored": MatterUserGrant.objects.filter(expires_at__lte=now).count()
        + MatterGroupGrant.objects.filter(expires_at__lte=now).count(),
        "person_grants": MatterUserGrant.objects.filter(user__username__startswith=USER_PREFIX).count(),
        "team_grants": MatterGroupGrant.objects.filter(group__name__startswith=GROUP_PREFIX).count(),
    }


def evaluate(result: dict) -> list[dict]:
    """What the job must have done, as (check, expected, measured)."""
    m, made = result["measurements"], result["data"]
    first, second, decisions = m["first_run"], m["second_run"], m["decisions"]
    checks = [
        ("grants removed = ended grants", made["expired"], first["outcome"]["expired"]),
        ("grant.expire events = grants removed", first["outcome"]["expired"], first["events_written"]),
        ("holders warned = grants ending within the window", made["expiring"], first["outcome"]["warned"]),
        ("warning notifications = holders warned", first["outcome"]["warned"], first["notifications_written"]),
        ("warning e-mails = holders warned", first["outcome"]["warned"], first["emails_sent"]),
        ("no ended grant left stored", 0, m["after"]["ended_still_stored"]),
        ("grants kept = grants - ended", made["person_grants"] - made["expired"], m["after"]["person_grants"]),
        ("second run: nothing removed, warned or lapsed", 0, sum(second["outcome"].values())),
        ("second run: no event, notification or e-mail", 0, second["events_written"] + second["notifications_written"]),
        ("live grant allows, before and after", [True], decisions["before"]["live"]["allowed"]),
        ("ended grant refuses before the job", [False], decisions["before"]["expired"]["allowed"]),
        ("ended grant refuses after the job", [False], decisions["after"]["expired"]["allowed"]),
        ("live grant allows after the job", [True], decisions["after"]["live"]["allowed"]),
    ]
    return [
        {"check": label, "expected": expected, "measured": measured, "passed": expected == measured}
        for label, expected, measured in checks
    ]


# --- Report ---------------------------------------------------------------------------------


def facts() -> dict:
    from django.db import connection

    result = {"vendor": connection.vendor, "cpus": os.cpu_count(), "python": sys.version.split()[0]}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version'), current_setting('synchronous_commit')")
            result["server_version"], result["synchronous_commit"] = cursor.fetchone()
    result["database"] = connection.settings_dict["NAME"]
    return result


def _job_lines(label: str, run: dict) -> list[str]:
    out = run["outcome"]
    lines = [
        f"{label:<44}{run['seconds']:>9.2f}{sum(out.values()):>9,}{run['rows_per_s']:>9,}{run['statements']:>8,}"
        f"{run['database_seconds']:>9.2f}"
    ]
    names = {
        "remove.matterusergrant": "removing person grants",
        "remove.mattergroupgrant": "removing team grants",
        "_warn_holders": "warning holders (notification + e-mail)",
        "_lapse_requests": "lapsing requests",
    }
    for name, phase in run["phases"].items():
        lines.append(
            f"  {names.get(name, name):<42}{phase['seconds']:>9.2f}{phase['rows']:>9,}{phase['rows_per_s']:>9,}"
            f"{phase['statements']:>8,}"
        )
    return lines


def format_report(result: dict) -> str:
    m, f, d = result["measurements"], result["facts"], result["data"]
    server = f"PostgreSQL {f['server_version']}" if f["vendor"] == "postgresql" else f["vendor"]
    first = m["first_run"]
    lines = [
        "",
        f"Grant expiry benchmark · {server} · {f['cpus']} CPUs · load average "
        f"{result['load_average']['before']:.1f} before, {result['load_average']['after']:.1f} after",
        f"{d['person_grants']:,} person grants ({d['expired']:,} ended, {d['expiring']:,} ending within the warning "
        f"window, {d['no_end']:,} without end), {d['team_grants']:,} team grants; "
        f"{result['plan']['users']:,} people, {result['plan']['matters']:,} matters",
        "",
        f"{'expire_grants()':<44}{'seconds':>9}{'rows':>9}{'rows/s':>9}{'stmts':>8}{'db s':>9}",
        *_job_lines("first run", first),
        *_job_lines("second run (nothing to do)", m["second_run"]),
        "",
        f"first run: statements {first['statement_kinds']}; peak RSS growth "
        f"{first.get('peak_rss_growth_kib', 0) / 1024:.1f} MiB (max RSS +{first['maxrss_growth_kib'] / 1024:.1f} MiB); "
        f"grant.expire events {first['events_written']:,}, notifications {first['notifications_written']:,}, "
        f"e-mails {first['emails_sent']:,}",
        "",
        f"{'can(person with ' + format(d['heavy_grants'], ',') + ' grants, view) (ms)':<44}"
        f"{'p50':>9}{'p95':>9}{'allowed':>9}",
    ]
    for when in ("before", "after"):
        for case, label in (("live", "grant without end"), ("expired", "ended grant")):
            row = m["decisions"][when][case]
            allowed = "/".join("yes" if a else "no" for a in row["allowed"])
            lines.append(
                f"  {label + ', ' + when + ' the job':<42}{row['p50_ms']:>9.2f}{row['p95_ms']:>9.2f}{allowed:>9}"
            )
    lines += ["", "Checks:"]
    for check in result["checks"]:
        verdict = "PASS" if check["passed"] else "FAIL"
        lines.append(f"  {verdict}  {check['check']:<50} expected {check['expected']}, measured {check['measured']}")
    return "\n".join(lines)


def run_grants_benchmark(
    *, plan: GrantsPlan | None = None, output_dir: Path = RESULTS_DIR, log: Callable[[str], None] = print
) -> dict:
    """Make the grants and measure in the connected database; print and write the JSON."""
    from django.test.utils import override_settings

    plan = plan or GrantsPlan()
    plan.check()
    clock = Clock()
    log("People, teams and matters …")
    world = ensure_world(plan, log)
    log("Grants …")
    made = make_grants(plan, world, log)
    m: dict = {"decisions": {}}
    # A warning is an e-mail too: kept in memory (5,000 of them would fill a console).
    with override_settings(EMAIL_BACKEND=EMAIL_BACKEND):
        log(f"Decisions before the job ({plan.decisions} rounds) …")
        m["decisions"]["before"] = measure_decisions(plan, made, world.heavy)
        log("expire_grants(), first run …")
        m["first_run"] = run_job()
        log("expire_grants(), second run …")
        m["second_run"] = run_job(sample_memory=False)
        log(f"Decisions after the job ({plan.decisions} rounds) …")
        m["decisions"]["after"] = measure_decisions(plan, made, world.heavy)
    m["after"] = leftovers()
    result = clock.result(plan, facts(), data=made.counts, measurements=m)
    result["checks"] = evaluate(result)
    return publish(result, format_report(result), output_dir, "grants", log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.grants", description=__doc__.split("\n\n")[0])
    defaults = GrantsPlan()
    parser.add_argument("--database", default=DEFAULT_DATABASE, help=f"database to use (default {DEFAULT_DATABASE})")
    parser.add_argument("--grants", type=int, default=defaults.grants, help="person grants (default 100,000)")
    parser.add_argument("--expired", type=int, default=defaults.expired, help="of them ended (default 10,000)")
    parser.add_argument("--expiring", type=int, default=defaults.expiring, help="ending within 7 days (5,000)")
    parser.add_argument("--users", type=int, default=defaults.users, help="people (default 1,000)")
    parser.add_argument("--matters", type=int, default=defaults.matters, help="matters (default 5,000)")
    parser.add_argument("--heavy-grants", type=int, default=defaults.heavy_grants, help="the timed person's (2,000)")
    parser.add_argument("--decisions", type=int, default=defaults.decisions, help="timed can() rounds (200)")
    parser.add_argument("--skip-generate", action="store_true", help="reuse people and matters (grants are remade)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="folder for the JSON result")
    args = parser.parse_args(argv)
    plan = replace(
        defaults,
        grants=args.grants,
        expired=args.expired,
        expiring=args.expiring,
        users=args.users,
        matters=args.matters,
        heavy_grants=args.heavy_grants,
        decisions=args.decisions,
    )

    def run() -> dict:
        plan.check()
        prepare(database_url(), args.database, recreate=not args.skip_generate)
        return run_grants_benchmark(plan=plan, output_dir=args.output)

    return exit_status(run, "checks")


if __name__ == "__main__":
    sys.exit(main())
