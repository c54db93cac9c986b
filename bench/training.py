"""Benchmark training compliance and HR's dashboard: 1,000 people x 20 courses and an agreement.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.training [--people N]
        [--courses N] [--rounds N] [--skip-generate]

Creates its own database (``custos_bench_training``), migrates it, adds people
(in departments, every tenth managing the nine after), an HR user, 20 published
courses and a confidentiality agreement (bulk inserts, not services), then,
every run, a fresh set of records timed from today: one current assignment per
person and course and one per person for the agreement's current version, with
the attempts, passes and signatures behind the completed ones. People fall in
three groups the checks count on: *lapsed* (1-3 courses overdue or expired),
*due soon* (1-2 courses due within ``TRAINING_DUE_SOON_DAYS``) and the rest,
compliant; of everyone's other course assignments about 80% are complete, the
rest open and due later; most people signed the agreement. Then it measures:

1. ``compliance.statuses()`` for everyone, given their ids and given none (the dashboard's and
   the people list's aggregate);
2. ``compliance.standing_of(person)`` and ``access.policy.gate_refusal(person, CONFIDENTIAL)``
   for a lapsed and for a compliant person (what a matter page and a home page ask);
3. the dashboard (``GET /training/manage/``) through Django's test client signed in
   as HR, for the whole firm and for one department;
4. the people list's first page;
5. the CSV export, read to its last byte, with the peak RSS growth.

Every case reports p50/p95 and the statements it sends (``connection.execute_wrapper``,
DEBUG stays off). Prints a table and a PASS/FAIL line per check, writes JSON to
``bench/results/``. Exits 1 when a check fails, 2 when the benchmark cannot run.
See bench/README.md, "Training".
"""

from __future__ import annotations

import argparse
import datetime
import random
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bench.generate import BenchSetupError, database_url, prepare
from bench.run import RESULTS_DIR, Clock, exit_status, publish, summarise

DEFAULT_DATABASE = "custos_bench_training"
USER_PREFIX = "training-bench-"
HR_USERNAME = "training-bench-hr"
COURSE_PREFIX = "Bench: "
DOCUMENT_TITLE = "Bench confidentiality agreement"
SEED = 6
TEN_MINUTES = datetime.timedelta(minutes=10)
DEPARTMENTS = ("litigation", "corporate", "ip", "employment", "finance", "compliance")
FIRST_NAMES = ("Wei", "Li", "Anna", "James", "Mei", "Tom", "Hui", "Sara", "明", "静")
LAST_NAMES = ("Zhang", "Wang", "Smith", "Chen", "Brown", "Liu", "Garcia", "Huang", "王", "李")
TOPICS = (
    ("Confidentiality duties", "保密义务"),
    ("Recognising phishing", "识别网络钓鱼"),
    ("Devices and encryption", "设备与加密"),
    ("Paper files and clean desks", "纸质文件与清洁桌面"),
    ("Reporting an incident", "报告安全事件"),
)


@dataclass(frozen=True)
class TrainingPlan:
    """How much to generate and how often to measure. The defaults are issue 6's sizes."""

    people: int = 1_000
    courses: int = 20
    lapsed_share: float = 0.08  # people with 1-3 courses overdue or expired
    due_soon_share: float = 0.10  # people with 1-2 courses due within the due-soon window (none overdue)
    complete_share: float = 0.80  # of every other course assignment
    unsigned_share: float = 0.10  # people who have not signed the agreement yet (not due within the window)
    manager_every: int = 10  # every tenth person manages the nine after
    rounds: int = 100  # timed rounds of the reads and of the dashboard
    warmup: int = 5  # untimed rounds first (connection, caches, templates: what a serving process has done)
    export_rounds: int = 10

    @classmethod
    def tiny(cls) -> TrainingPlan:
        """Seconds on SQLite or PostgreSQL: proves the machinery, measures nothing (the smoke test)."""
        return cls(people=30, courses=3, rounds=2, warmup=1, export_rounds=1)

    def check(self) -> None:
        problems = []
        if self.people < 10 or self.courses < 3:
            problems.append("at least 10 people and 3 courses (lapsed people owe up to three)")
        if self.lapsed_share + self.due_soon_share >= 1:
            problems.append("lapsed and due-soon shares must leave some people compliant")
        if min(self.rounds, self.export_rounds) < 1:
            problems.append("at least one timed round")
        if problems:
            raise BenchSetupError("Impossible plan: " + "; ".join(problems) + ".")


# --- The world: people, HR, courses, the agreement (made once, kept by --skip-generate) ---------


@dataclass
class World:
    people: list[int]  # ids, in username order
    hr: object  # the HR user the views are requested as
    courses: list[int]
    version: object  # the agreement's current DocumentVersion


def _courses(plan: TrainingPlan) -> list:
    from training.models import Course, CourseStatus

    rows = []
    for n in range(plan.courses):
        title, title_zh = TOPICS[n % len(TOPICS)]
        part = n // len(TOPICS) + 1
        rows.append(
            Course(
                title=f"{COURSE_PREFIX}{title} ({part})",
                title_zh=f"{title_zh} {part}",
                material="<p>Keep client information confidential.</p>",
                recurrence_months=12,
                status=CourseStatus.PUBLISHED,
            )
        )
    return rows


def ensure_world(plan: TrainingPlan, log: Callable[[str], None]) -> World:
    """People, HR, courses and the agreement of ``plan``; what an earlier run made is reused."""
    from django.utils import timezone

    from access.models import Role, User, role_group
    from training.models import Choice, Course, DocumentVersion, PolicyDocument, Question

    started = time.perf_counter()
    rng = random.Random(SEED)
    names = [f"{USER_PREFIX}{n:05d}" for n in range(plan.people)]
    have = set(User.objects.filter(username__startswith=USER_PREFIX).values_list("username", flat=True))

    def person(n: int, name: str, manager_id=None) -> User:
        # "!" is Django's unusable password: these people never sign in.
        return User(
            username=name,
            first_name=FIRST_NAMES[n % len(FIRST_NAMES)],
            last_name=LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)],
            email=f"{name}@example.test",
            password="!",  # noqa: S106
            department="" if rng.random() < 0.05 else DEPARTMENTS[n % len(DEPARTMENTS)],
            manager_id=manager_id,
        )

    # Managers first (bulk inserts send no signal: nobody is synced or notified), then their reports.
    heads = [n for n in range(plan.people) if n % plan.manager_every == 0]
    User.objects.bulk_create([person(n, names[n]) for n in heads if names[n] not in have], batch_size=1000)
    ids = dict(User.objects.filter(username__startswith=USER_PREFIX).values_list("username", "id"))
    reports = [n for n in range(plan.people) if n % plan.manager_every and names[n] not in have]
    head_of = lambda n: ids[names[n - n % plan.manager_every]]  # noqa: E731
    User.objects.bulk_create([person(n, names[n], head_of(n)) for n in reports], batch_size=1000)
    if not User.objects.filter(username=HR_USERNAME).exists():
        User.objects.bulk_create(
            [
                User(
                    username=HR_USERNAME,
                    first_name="Harriet",
                    last_name="Bench",
                    department="human_resources",
                    password="!",  # noqa: S106
                )
            ]
        )
    hr = User.objects.get(username=HR_USERNAME)
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=hr.pk, group_id=role_group(Role.HR).pk)], ignore_conflicts=True
    )

    if not Course.objects.filter(title__startswith=COURSE_PREFIX).exists():
        courses = Course.objects.bulk_create(_courses(plan))
        questions = Question.objects.bulk_create(
            [Question(course=c, text=f"Question {k}?", position=k) for c in courses for k in (1, 2)]
        )
        Choice.objects.bulk_create(
            [
                Choice(question=q, text=text, is_correct=right, position=k)
                for q in questions
                for k, (text, right) in enumerate((("Right", True), ("Wrong", False)), start=1)
            ]
        )
    courses = list(Course.objects.filter(title__startswith=COURSE_PREFIX).order_by("pk").values_list("pk", flat=True))
    document = PolicyDocument.objects.filter(title=DOCUMENT_TITLE).first()
    if document is None:
        document = PolicyDocument.objects.create(kind="agreement", title=DOCUMENT_TITLE, title_zh="基准保密协议")
    version = document.versions.order_by("-number").first()
    if version is None:
        version = DocumentVersion.objects.create(
            document=document,
            number=1,
            text_en="I keep the firm's and its clients' information confidential.",
            text_zh="我对律所及其客户的信息保密。",
            sign_by=timezone.localdate(),
        )
    people = list(User.objects.filter(username__in=names).order_by("username").values_list("pk", flat=True))
    log(f"  {len(people):,} people, HR, {len(courses)} courses, one agreement in {time.perf_counter() - started:.1f} s")
    return World(people=people, hr=hr, courses=courses, version=version)


# --- The records (made anew every run, timed from today) ----------------------------------------


def _quote(name: str) -> str:
    from django.db import connection

    return connection.ops.quote_name(name)


def clear_records() -> None:
    """The bench people's assignments, reminders, passes, attempts and signatures from an earlier run.

    Raw DELETEs: bench bookkeeping, not a change anyone audits.
    """
    from django.db import connection

    from access.models import User
    from training.models import Assignment, Attempt, Completion, Reminder, Signature

    people = f"SELECT id FROM {_quote(User._meta.db_table)} WHERE username LIKE %s"
    assignments = f"SELECT id FROM {_quote(Assignment._meta.db_table)} WHERE user_id IN ({people})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {_quote(Reminder._meta.db_table)} WHERE assignment_id IN ({assignments})", [USER_PREFIX + "%"]
        )
        for model in (Assignment, Completion, Attempt, Signature):
            # Our own table names only; the prefix is a parameter.
            cursor.execute(
                f"DELETE FROM {_quote(model._meta.db_table)} WHERE user_id IN ({people})", [USER_PREFIX + "%"]
            )


@dataclass
class Made:
    lapsed_person: int
    compliant_person: int
    counts: dict


def _profiles(plan: TrainingPlan, world: World, rng: random.Random) -> dict[int, str]:
    people = list(world.people)
    rng.shuffle(people)
    lapsed = round(len(people) * plan.lapsed_share)
    due_soon = round(len(people) * plan.due_soon_share)
    return {
        pk: "lapsed" if n < lapsed else "due_soon" if n < lapsed + due_soon else "compliant"
        for n, pk in enumerate(people)
    }


def make_records(plan: TrainingPlan, world: World, log: Callable[[str], None]) -> Made:
    """Replace the bench people's training records with a fresh set timed from today."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from access.models import User
    from lawfirm.dates import add_months
    from training.models import Assignment, Attempt, Completion, Signature

    started = time.perf_counter()
    rng = random.Random(SEED)
    now, today = timezone.now(), timezone.localdate()
    window = settings.TRAINING_DUE_SOON_DAYS
    day = datetime.timedelta(days=1)
    profiles = _profiles(plan, world, rng)
    attempts, completions, assignments, kinds = [], [], [], Counter()

    def completed(user: int, course: int, when: datetime.datetime) -> Completion:
        attempt = Attempt(
            id=uuid.uuid4(),
            user_id=user,
            course_id=course,
            course_version=1,
            started_at=when - TEN_MINUTES,
            submitted_at=when,
            answers={},
            correct=2,
            total=2,
            score=100,
            passed=True,
        )
        attempts.append(attempt)
        passed = Completion(
            id=uuid.uuid4(),
            user_id=user,
            course_id=course,
            course_version=1,
            attempt_id=attempt.pk,
            score=100,
            completed_at=when,
            expires_on=add_months(timezone.localdate(when), 12),
        )
        completions.append(passed)
        return passed

    for user in world.people:
        profile = profiles[user]
        owed = {"lapsed": rng.randint(1, 3), "due_soon": rng.randint(1, 2)}.get(profile, 0)
        special = set(rng.sample(world.courses, owed))  # the courses that make the person lapsed or due soon
        for course in world.courses:
            if course in special and profile == "lapsed" and rng.random() < 0.7:
                due = today - rng.randint(1, 60) * day  # open, past its due date
                row, kind = Assignment(due_on=due, good_through=due), "overdue"
            elif course in special and profile == "lapsed":
                when = now - rng.uniform(366, 420) * day  # passed over a year ago: expired
                passed = completed(user, course, when)
                good = passed.expires_on - day
                row = Assignment(
                    due_on=timezone.localdate(when), completed_at=when, completion_id=passed.pk, good_through=good
                )
                kind = "expired"
            elif course in special:
                due = today + rng.randint(0, window - 1) * day  # due within the window
                row, kind = Assignment(due_on=due, good_through=due), "due_soon"
            elif rng.random() < plan.complete_share:
                when = now - rng.uniform(10, 300) * day  # valid for 2-11 more months: beyond the window
                passed = completed(user, course, when)
                row = Assignment(
                    due_on=timezone.localdate(when),
                    completed_at=when,
                    completion_id=passed.pk,
                    good_through=passed.expires_on - day,
                )
                kind = "complete"
            else:
                due = today + rng.randint(window + 1, 90) * day
                row, kind = Assignment(due_on=due, good_through=due), "open"
            # Assigned two to six weeks before it was passed or falls due (never in the future).
            anchor = row.completed_at or now + (row.due_on - today)
            assigned_at = min(now, anchor - rng.uniform(14, 45) * day)
            row.user_id, row.course_id, row.assigned_at = user, course, assigned_at
            assignments.append(row)
            kinds[kind] += 1

    version = world.version
    sign_by = today + (window + 16) * day
    # Their version's date to sign by is left as it is: each assignment carries its own (as for a joiner).
    unsigned = set(rng.sample(world.people, round(len(world.people) * plan.unsigned_share)))
    signatures = [
        Signature(
            version=version,
            user_id=user,
            typed_name="Bench Person",
            language="en",
            text_hash=version.hash_en,
            signed_at=now - rng.uniform(1, 200) * day,
            ip_address="192.0.2.10",
        )
        for user in world.people
        if user not in unsigned
    ]
    with transaction.atomic():
        clear_records()
        Attempt.objects.bulk_create(attempts, batch_size=2000)
        Completion.objects.bulk_create(completions, batch_size=2000)
        signed = Signature.objects.bulk_create(signatures, batch_size=2000)
        for signature in signed:
            assignments.append(
                Assignment(
                    user_id=signature.user_id,
                    version=version,
                    assigned_at=now - 220 * day,
                    due_on=sign_by,
                    completed_at=signature.signed_at,
                    signature_id=signature.pk,
                    good_through=None,
                )
            )
        for user in sorted(unsigned):
            assignments.append(
                Assignment(
                    user_id=user, version=version, assigned_at=now - 20 * day, due_on=sign_by, good_through=sign_by
                )
            )
        Assignment.objects.bulk_create(assignments, batch_size=2000)
    # The people were bulk-inserted too: fresh statistics for them as well, or the planner guesses.
    models = (Assignment, Attempt, Completion, Signature, User, User.groups.through)
    tables = ", ".join(_quote(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute(f"VACUUM (ANALYZE) {tables}")
        else:
            cursor.execute("ANALYZE")
    by_profile = Counter(profiles.values())
    log(
        f"  {len(assignments):,} current assignments ({kinds['complete'] + kinds['expired']:,} passes, "
        f"{kinds['overdue']:,} overdue, {kinds['due_soon']:,} due soon), {len(signed):,} signatures, "
        f"{len(unsigned):,} unsigned in {time.perf_counter() - started:.1f} s"
    )
    lapsed = min(pk for pk, profile in profiles.items() if profile == "lapsed")
    compliant = min(pk for pk, profile in profiles.items() if profile == "compliant")
    counts = {
        "people": len(world.people),
        "courses": len(world.courses),
        "assignments": len(assignments),
        "course_assignments": sum(kinds.values()),
        **{f"assignments_{kind}": count for kind, count in sorted(kinds.items())},
        "signed": len(signed),
        "unsigned": len(unsigned),
        "lapsed": by_profile["lapsed"],
        "due_soon": by_profile["due_soon"],
        "compliant": by_profile["compliant"],
    }
    return Made(lapsed_person=lapsed, compliant_person=compliant, counts=counts)


# --- Measurements ---------------------------------------------------------------------------


def count_statements(run: Callable[[], object]) -> tuple[int, float]:
    """The statements one call sends and the time spent in them, ms (outside the timed rounds,
    so counting costs them nothing)."""
    from django.db import connection

    from bench.grants import Statements

    statements = Statements()
    with connection.execute_wrapper(statements):
        run()
    return statements.count, round(statements.seconds * 1000, 2)


def timed(run: Callable[[], object], rounds: int, warmup: int) -> dict:
    """p50/p95 of ``rounds`` calls after ``warmup`` untimed ones, the statements one call sends,
    and the answers the calls gave (a case whose answer changes is a failed check)."""
    answers, samples = set(), []
    for round_ in range(warmup + rounds):
        started = time.perf_counter()
        answer = run()
        elapsed = (time.perf_counter() - started) * 1000
        answers.add(answer)
        if round_ >= warmup:
            samples.append(elapsed)
    answers = [list(answer) if isinstance(answer, tuple) else answer for answer in sorted(answers, key=repr)]
    count, database_ms = count_statements(run)
    return {**summarise(samples), "statements": count, "database_ms": database_ms, "answers": answers}


def _headline(content: bytes) -> dict:
    found = {}
    for name in ("people", "compliant", "due-soon", "lapsed"):
        match = re.search(rf'id="count-{name}">(?:<a [^>]*>)?(\d+)<'.encode(), content)
        found[name.replace("-", "_")] = int(match.group(1)) if match else None
    return found


def measure(plan: TrainingPlan, world: World, made: Made, log: Callable[[str], None]) -> dict:
    from django.urls import reverse

    from access.models import User
    from bench.run import signed_in_client
    from bench.vault import RssSampler
    from matters.models import Classification
    from training import compliance
    from training.assignments import staff

    m: dict = {}
    everyone = list(staff().values_list("pk", flat=True))
    lapsed, compliant = User.objects.get(pk=made.lapsed_person), User.objects.get(pk=made.compliant_person)
    rounds, warmup = plan.rounds, plan.warmup

    log(f"compliance.statuses() for {len(everyone):,} people ({rounds} rounds) …")
    m["statuses"] = timed(lambda: _owing(compliance.statuses(everyone)), rounds, warmup)
    # Without the ids (as the dashboard asks): everyone with a dated assignment, no list bound into the query.
    m["statuses.unlisted"] = timed(lambda: _owing(compliance.statuses()), rounds, warmup)
    log("standing_of() and gate_refusal() for one person …")
    for label, person in (("lapsed", lapsed), ("compliant", compliant)):
        m[f"standing_of.{label}"] = timed(lambda p=person: compliance.standing_of(p).status, rounds, warmup)
        m[f"gate_refusal.{label}"] = timed(
            lambda p=person: gate_refused(p, Classification.CONFIDENTIAL), rounds, warmup
        )

    client = signed_in_client(world.hr)
    department = DEPARTMENTS[0]
    pages = {
        "view.dashboard": (reverse("training:dashboard"), None),
        "view.dashboard.department": (reverse("training:dashboard"), {"department": department}),
        "view.people": (reverse("training:people"), None),
    }
    for name, (url, data) in pages.items():
        log(f"GET {url}{'?department=' + department if data else ''} ({rounds} rounds) …")
        m[name] = timed(lambda u=url, d=data: _page(client, u, d), rounds, warmup)
    m["view.dashboard"]["headline"] = _headline(_content(client, reverse("training:dashboard")))

    log(f"GET {reverse('training:export')} ({plan.export_rounds} rounds) …")
    with RssSampler() as rss:
        m["view.export"] = timed(lambda: _export(client), plan.export_rounds, 1)
    m["view.export"]["peak_rss_growth_kib"] = rss.peak_kib - rss.baseline_kib
    return m


def _owing(statuses: dict[int, str]) -> tuple[int, int]:
    """(due soon, lapsed): how many people the statuses put in each."""
    from training.compliance import Status

    counts = Counter(statuses.values())
    return counts[Status.DUE_SOON], counts[Status.LAPSED]


def gate_refused(person, classification: int) -> bool:
    from access.policy import gate_refusal

    return gate_refusal(person, classification) is not None


def _content(client, url: str, data=None) -> bytes:
    from django.conf import settings

    response = client.get(url, data, secure=settings.SECURE_SSL_REDIRECT)
    if response.status_code != 200:
        raise BenchSetupError(f"GET {url} answered {response.status_code}, not 200: the view measurement is void.")
    return b"".join(response.streaming_content) if response.streaming else response.content


def _page(client, url: str, data=None) -> int:
    """The page's status as the answer (the size would vary with the CSRF token)."""
    _content(client, url, data)
    return 200


def _export(client) -> tuple[int, int]:
    """(data rows, bytes) of one export, read to the end."""
    from django.urls import reverse

    content = _content(client, reverse("training:export"))
    return content.count(b"\n") - 1, len(content)


def evaluate(result: dict) -> list[dict]:
    m, d = result["measurements"], result["data"]
    expected_statuses = [d["due_soon"], d["lapsed"]]
    headline = m["view.dashboard"]["headline"]
    export_rows = sorted({rows for rows, _size in m["view.export"]["answers"]})
    checks = [
        ("statuses(): (due soon, lapsed) people as generated", [expected_statuses], m["statuses"]["answers"]),
        ("statuses() without ids: the same people", [expected_statuses], m["statuses.unlisted"]["answers"]),
        ("statuses(): one statement", 1, m["statuses"]["statements"]),
        ("standing_of(lapsed person) = lapsed", ["lapsed"], m["standing_of.lapsed"]["answers"]),
        ("standing_of(compliant person) = compliant", ["compliant"], m["standing_of.compliant"]["answers"]),
        ("standing_of(): one statement", 1, m["standing_of.lapsed"]["statements"]),
        ("gate refuses the lapsed person a CONFIDENTIAL matter", [True], m["gate_refusal.lapsed"]["answers"]),
        ("gate admits the compliant person", [False], m["gate_refusal.compliant"]["answers"]),
        ("gate: one statement", 1, m["gate_refusal.lapsed"]["statements"]),
        (
            "dashboard headline = generated (people + HR)",
            {
                "people": d["people"] + 1,
                "compliant": d["compliant"] + 1,
                "due_soon": d["due_soon"],
                "lapsed": d["lapsed"],
            },
            headline,
        ),
        (
            "dashboard: the same statements for one department as for the firm",
            m["view.dashboard"]["statements"],
            m["view.dashboard.department"]["statements"],
        ),
        ("export rows = current assignments", [d["assignments"]], export_rows),
    ]
    return [
        {"check": label, "expected": expected, "measured": measured, "passed": expected == measured}
        for label, expected, measured in checks
    ]


# --- Report ---------------------------------------------------------------------------------


def format_report(result: dict) -> str:
    m, f, d = result["measurements"], result["facts"], result["data"]
    server = f"PostgreSQL {f['server_version']}" if f["vendor"] == "postgresql" else f["vendor"]
    labels = {
        "statuses": f"compliance.statuses({d['people'] + 1:,} ids)",
        "statuses.unlisted": "compliance.statuses(), no ids",
        "standing_of.lapsed": "standing_of(), a lapsed person",
        "standing_of.compliant": "standing_of(), a compliant person",
        "gate_refusal.lapsed": "gate_refusal(CONFIDENTIAL), lapsed",
        "gate_refusal.compliant": "gate_refusal(CONFIDENTIAL), compliant",
        "view.dashboard": "GET dashboard, whole firm",
        "view.dashboard.department": "GET dashboard, one department",
        "view.people": "GET people list, first page",
        "view.export": f"GET export.csv, {d['assignments']:,} rows",
    }
    lines = [
        "",
        f"Training benchmark · {server} · {f['cpus']} CPUs · load average "
        f"{result['load_average']['before']:.1f} before, {result['load_average']['after']:.1f} after",
        f"{d['people']:,} people x {d['courses']} courses: {d['assignments']:,} current assignments; "
        f"{d['lapsed']:,} lapsed, {d['due_soon']:,} due soon, {d['compliant']:,} compliant; "
        f"{d['signed']:,} signed the agreement, {d['unsigned']:,} not yet",
        "",
        f"{'measurement (ms)':<44}{'p50':>9}{'p95':>9}{'n':>6}{'stmts':>7}{'db ms':>8}",
    ]
    for name, label in labels.items():
        row = m[name]
        lines.append(
            f"  {label:<42}{row['p50_ms']:>9.2f}{row['p95_ms']:>9.2f}{row['n']:>6}{row['statements']:>7}"
            f"{row['database_ms']:>8.1f}"
        )
    export = m["view.export"]
    size = max(s for _rows, s in export["answers"])
    lines += [
        "",
        f"export: {size / 1024:.0f} KiB; peak RSS growth {export['peak_rss_growth_kib'] / 1024:.1f} MiB",
        "",
        "Checks:",
    ]
    for check in result["checks"]:
        verdict = "PASS" if check["passed"] else "FAIL"
        lines.append(f"  {verdict}  {check['check']:<60} expected {check['expected']}, measured {check['measured']}")
    return "\n".join(lines)


def run_training_benchmark(
    *, plan: TrainingPlan | None = None, output_dir: Path = RESULTS_DIR, log: Callable[[str], None] = print
) -> dict:
    """Make the records and measure in the connected database; print and write the JSON."""
    from bench.grants import facts

    plan = plan or TrainingPlan()
    plan.check()
    clock = Clock()
    log("People, HR, courses, the agreement …")
    world = ensure_world(plan, log)
    log("Training records …")
    made = make_records(plan, world, log)
    measurements = measure(plan, world, made, log)
    result = clock.result(plan, facts(), data=made.counts, measurements=measurements)
    result["checks"] = evaluate(result)
    return publish(result, format_report(result), output_dir, "training", log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.training", description=__doc__.split("\n\n")[0])
    defaults = TrainingPlan()
    parser.add_argument("--database", default=DEFAULT_DATABASE, help=f"database to use (default {DEFAULT_DATABASE})")
    parser.add_argument("--people", type=int, default=defaults.people, help="people (default 1,000)")
    parser.add_argument("--courses", type=int, default=defaults.courses, help="courses, each assigned to all (20)")
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help="timed rounds per case (100)")
    parser.add_argument("--export-rounds", type=int, default=defaults.export_rounds, help="timed exports (10)")
    parser.add_argument("--skip-generate", action="store_true", help="reuse people and courses (records are remade)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="folder for the JSON result")
    args = parser.parse_args(argv)
    plan = replace(
        defaults, people=args.people, courses=args.courses, rounds=args.rounds, export_rounds=args.export_rounds
    )

    def run() -> dict:
        plan.check()
        prepare(database_url(), args.database, recreate=not args.skip_generate)
        return run_training_benchmark(plan=plan, output_dir=args.output)

    return exit_status(run, "checks")


if __name__ == "__main__":
    sys.exit(main())
