"""Benchmark the audit trail on PostgreSQL: request cost, ingest, sequencer, verification, reads.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.audit [--events N]
        [--pairs N] [--skip-generate] [--profile]

Creates its own database (``custos_bench_audit``), migrates it, fills it with a
million realistic events (canonical bytes built as ``record_event`` builds them,
loaded with COPY), then measures, in this order:

1. the sequencer chaining that million (``chain_pending_events``, the beat job's batch);
2. ``verify_audit_trail()`` over it;
3. "the last 50 events" of a person and of a matter (the review screen's reads);
4. the cost of auditing one request: the matter page through Django's test
   client, signed in with both factors, alternately with auditing (the
   middleware, ``record_event``, a committed INSERT) and without it;
5. ingest: eight threads, each with its own connection, calling ``record_event``
   outside a request (autocommit, synchronous commit);
6. the sequencer on a fresh backlog, at two batch sizes;
7. chaining lag: the sequencer looping while eight writers insert.

Prints a table and PASS/FAIL per target of issue 3, EXPLAIN of the reads, and
writes everything as JSON to ``bench/results/``. Exits 1 when a target is
missed, 2 when the benchmark cannot run. See bench/README.md, "Audit".
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import json
import os
import pstats
import random
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from bench.generate import BenchSetupError, database_url, prepare
from bench.run import RESULTS_DIR, percentile, summarise, write_json

DEFAULT_DATABASE = "custos_bench_audit"
ACTOR_PREFIX = "audit-bench-"
READER_USERNAME = "audit-bench-reader"
READER_MATTER_NUMBER = "AB-READER-1"
AUDIT_MIDDLEWARE = "audit.middleware.AuditMiddleware"
SEED = 3
SERVER_SETTINGS = [
    "server_version",
    "shared_buffers",
    "work_mem",
    "synchronous_commit",
    "fsync",
    "wal_sync_method",
    "max_wal_size",
    "random_page_cost",
]

# The acceptance targets of issue 3: (label, measurement, statistic, limit, higher is better).
TARGETS = (
    ("audit cost per request p50 ≤ 1.5 ms", "request.cost", "p50_ms", 1.5, False),
    ("audit cost per request p95 ≤ 2 ms", "request.cost", "p95_ms", 2.0, False),
    ("ingest, 8 writers ≥ 1,500 events/s", "ingest", "events_per_s", 1500, True),
    ("sequencer ≥ 20,000 events/s (backlog, first batch size)", "sequencer", "events_per_s", 20000, True),
    ("verification ≥ 50,000 events/s", "verify", "events_per_s", 50000, True),
    ("last 50 events of a person p95 ≤ 3 ms", "read.person", "p95_ms", 3.0, False),
    ("last 50 events of a matter p95 ≤ 3 ms", "read.matter", "p95_ms", 3.0, False),
)


@dataclass(frozen=True)
class AuditPlan:
    """How much to generate and how long to measure. The defaults are the sizes the targets are set for."""

    events: int = 1_000_000
    actors: int = 2_000
    matters: int = 100_000
    clients: int = 10_000
    documents: int = 200_000
    request_pairs: int = 500
    request_warmup: int = 30
    writers: int = 8
    ingest_seconds: float = 10.0
    backlog: int = 200_000
    batch_sizes: tuple[int, ...] = (1000, 5000)
    lag_seconds: float = 20.0
    lag_interval: float = 1.0
    read_picks: int = 500

    @classmethod
    def tiny(cls) -> AuditPlan:
        """A few seconds on any database: proves the machinery, measures nothing (the smoke test)."""
        return cls(
            events=2_000,
            actors=20,
            matters=200,
            clients=20,
            documents=300,
            request_pairs=4,
            request_warmup=1,
            ingest_seconds=0.5,
            backlog=500,
            batch_sizes=(100, 500),
            lag_seconds=1.0,
            lag_interval=0.2,
            read_picks=10,
        )


# --- Realistic events -----------------------------------------------------------------------

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
)
# (action, weight, what it is about); outcomes are mostly success, a few denials.
ACTION_MIX = (
    ("matter.view", 40, "matter"),
    ("matter.list", 15, None),
    ("matter.search", 5, None),
    ("document.view", 12, "document"),
    ("document.download", 10, "document"),
    ("auth.sign_in", 6, None),
    ("auth.sign_out", 3, None),
    ("auth.sign_in_failed", 2, None),
    ("document.upload", 2, "document"),
    ("grant.create", 2, "matter"),
)
DENIED_SHARE = 0.03
DENIAL_REASON = "No live grant gives you access to this matter."


class EventMaker:
    """Events shaped like the ones ``audit.events.build_event`` makes, built fast and reproducibly.

    Popularity is skewed (``random() ** 2``): the busiest 1% of people and
    matters carry about 10% of the events, as in a firm where some matters are hot.
    """

    def __init__(self, actors: list[tuple[int, str]], plan: AuditPlan, seed: int = SEED):
        rng = random.Random(seed)
        self.rng = random.Random(seed + 1)
        self.actors = actors
        self.sessions = {pk: [f"{rng.getrandbits(64):016x}" for _ in range(3)] for pk, _name in actors}
        self.ips = {pk: f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for pk, _ in actors}
        clients = [(str(uuid.UUID(int=rng.getrandbits(128), version=4)), f"C-{n:05d}") for n in range(plan.clients)]
        self.matters = []
        for n in range(plan.matters):
            client_id, client_code = clients[rng.randrange(len(clients))]
            matter_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            classification = rng.choice((10, 20, 20, 30, 30, 30, 40))
            self.matters.append((matter_id, f"{2014 + n % 12}-M-{n:06d}", client_id, client_code, classification))
        self.documents = [
            (str(uuid.UUID(int=rng.getrandbits(128), version=4)), rng.randrange(plan.matters))
            for _ in range(plan.documents)
        ]
        self.actions = [entry for entry in ACTION_MIX for _ in range(entry[1])]

    def skewed(self, population: int) -> int:
        return int(population * self.rng.random() ** 2)

    def actor(self) -> tuple[int, str]:
        return self.actors[self.skewed(len(self.actors))]

    def matter(self) -> tuple:
        return self.matters[self.skewed(len(self.matters))]

    def row(self, at: datetime.datetime) -> tuple:
        """(occurred_at, action, outcome, actor_id, session_ref, ip, client_id, matter_id, document_id, payload)."""
        from audit.events import PAYLOAD_VERSION, canonical_bytes

        rng = self.rng
        action, _weight, about = self.actions[rng.randrange(len(self.actions))]
        actor_id, username = self.actor()
        outcome, reason, detail = "success", "", {}
        matter = document_id = None
        if about == "matter":
            matter = self.matter()
        elif about == "document":
            document_id, matter_index = self.documents[self.skewed(len(self.documents))]
            matter = self.matters[matter_index]
        if about and rng.random() < DENIED_SHARE:
            outcome, reason = "denied", DENIAL_REASON
        if action == "matter.list":
            detail = {"page": 1 + self.skewed(5), "count": rng.randrange(20, 4000)}
        elif action == "matter.search":
            detail = {"term": f"{rng.getrandbits(128):032x}", "results": rng.randrange(0, 300)}
        elif action == "grant.create":
            detail = {"grantee_id": self.actor()[0], "level": "view"}
        session, ip = rng.choice(self.sessions[actor_id]), self.ips[actor_id]
        if action == "auth.sign_in_failed":
            outcome, detail, actor_id, session = "failure", {"username": username}, None, ""
        record = {
            "v": PAYLOAD_VERSION,
            "uid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "at": at.isoformat(timespec="microseconds"),
            "action": action,
            "outcome": outcome,
            "actor_id": actor_id,
            "actor": username,
            "session": session,
            "ip": ip,
            "ua": USER_AGENTS[actor_id % len(USER_AGENTS) if actor_id else 0],
            "client_id": matter[2] if matter else None,
            "client_code": matter[3] if matter else "",
            "matter_id": matter[0] if matter else None,
            "matter_number": matter[1] if matter else "",
            "document_id": document_id,
            "classification": matter[4] if matter else None,
            "reason": reason,
            "detail": detail,
        }
        return (
            at,
            action,
            outcome,
            actor_id,
            session,
            ip,
            record["client_id"],
            record["matter_id"],
            document_id,
            canonical_bytes(record),
        )


class _Target:
    """What ``record_event(target=…)`` needs of a matter, without a matter row."""

    def __init__(self, matter: tuple):
        self.about = {
            "matter_id": matter[0],
            "matter_number": matter[1],
            "client_id": matter[2],
            "client_code": matter[3],
            "classification": matter[4],
        }

    def audit_target(self) -> dict:
        return self.about


def check_record_shape(maker: EventMaker) -> None:
    """The generated records carry exactly the keys ``record_event`` writes (else the numbers mean little)."""
    from audit.events import build_event

    made = build_event(
        "matter.view",
        outcome="success",
        target=_Target(maker.matters[0]),
        actor=None,
        reason="",
        detail=None,
        request=None,
    )
    ours = json.loads(maker.row(datetime.datetime.now(datetime.UTC))[-1])
    if set(ours) != set(json.loads(bytes(made.payload))):
        raise BenchSetupError("bench.audit's records no longer match audit.events.build_event: update EventMaker.row.")


COLUMNS = (
    "occurred_at",
    "action",
    "outcome",
    "actor_id",
    "session_ref",
    "ip_address",
    "client_id",
    "matter_id",
    "document_id",
    "payload",
    "recorded_at",
)


def insert_events(maker: EventMaker, count: int, start: datetime.datetime, end: datetime.datetime) -> None:
    """``count`` events spread evenly from ``start`` to ``end``, in time order: COPY on PostgreSQL."""
    from django.db import connection

    from audit.models import AuditEvent

    step = (end - start) / max(1, count)
    rows = (maker.row(start + step * n) for n in range(count))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            copy_sql = f"COPY audit_event ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row((*row, row[0]))
        return
    batch = []
    for at, action, outcome, actor_id, session, ip, client_id, matter_id, document_id, payload in rows:
        batch.append(
            AuditEvent(
                occurred_at=at,
                action=action,
                outcome=outcome,
                actor_id=actor_id,
                session_ref=session,
                ip_address=ip,
                client_id=client_id,
                matter_id=matter_id,
                document_id=document_id,
                payload=payload,
                recorded_at=at,
            )
        )
        if len(batch) == 1000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    AuditEvent.objects.bulk_create(batch)


# --- The world ------------------------------------------------------------------------------


def ensure_world(plan: AuditPlan) -> EventMaker:
    """The people the events are about, and a reader with a matter to open (created once)."""
    from access.models import User

    existing = User.objects.filter(username__startswith=ACTOR_PREFIX).exclude(username=READER_USERNAME).count()
    if existing < plan.actors:
        # "!" is Django's unusable password: these people never sign in.
        people = [
            User(username=f"{ACTOR_PREFIX}{n:05d}", first_name="Audit", last_name=f"Person {n}", password="!")  # noqa: S106
            for n in range(existing, plan.actors)
        ]
        User.objects.bulk_create(people, batch_size=1000)
    reader_and_matter()
    actors = list(
        User.objects.filter(username__startswith=ACTOR_PREFIX)
        .exclude(username=READER_USERNAME)
        .order_by("username")
        .values_list("pk", "username")[: plan.actors]
    )
    return EventMaker(actors, plan)


def reader_and_matter():
    """A lawyer with a confirmed authenticator and a view grant on one ordinary (internal) matter."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from access.models import GrantLevel, User
    from access.services import grant_matter_access
    from matters.models import Classification, Client, Matter, Party, PartyRole, PracticeArea

    reader, created = User.objects.get_or_create(
        username=READER_USERNAME, defaults={"first_name": "Audit", "last_name": "Reader", "password": "!"}
    )
    if created:
        TOTPDevice.objects.create(user=reader, name="bench", confirmed=True)
    matter = Matter.objects.filter(number=READER_MATTER_NUMBER).first()
    if matter is None:
        client = Client.objects.create(code="AB-C-1", name="Audit Bench Client Ltd.")
        matter = Matter.objects.create(
            number=READER_MATTER_NUMBER,
            title="Supply dispute — Shanghai",
            client=client,
            practice_area=PracticeArea.LITIGATION,
            classification=Classification.INTERNAL,
        )
        Party.objects.create(matter=matter, name=client.name, role=PartyRole.CLIENT)
        Party.objects.create(matter=matter, name="Adverse Trading Ltd.", role=PartyRole.ADVERSE)
        grant_matter_access(actor=None, matter=matter, level=GrantLevel.VIEW, reason="bench", user=reader)
    return reader, matter


def generate(plan: AuditPlan, log: Callable[[str], None]) -> dict:
    """Fill the connected database with ``plan.events`` events ending an hour ago (it must hold none)."""
    from audit.models import AuditEvent

    maker = ensure_world(plan)
    check_record_shape(maker)
    if AuditEvent.objects.count() > 100:
        raise BenchSetupError(
            "The database already holds events; the generator fills an empty one "
            "(python -m bench.audit recreates its own unless --skip-generate)."
        )
    end = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    started = time.perf_counter()
    insert_events(maker, plan.events, end - datetime.timedelta(days=90), end)
    seconds = time.perf_counter() - started
    log(f"  {plan.events:,} events built and loaded in {seconds:.1f} s ({plan.events / seconds:,.0f}/s)")
    analyze()
    return {"events": plan.events, "seconds": round(seconds, 1)}


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE audit_event, audit_link" if connection.vendor == "postgresql" else "ANALYZE")


# --- Measurements ---------------------------------------------------------------------------


def rate(count: int, seconds: float) -> dict:
    return {"events": count, "seconds": round(seconds, 3), "events_per_s": round(count / seconds) if seconds else 0}


def chain_all(batch_size: int) -> dict:
    from audit.chain import chain_pending_events

    started = time.perf_counter()
    result = chain_pending_events(batch_size=batch_size)
    return rate(result.chained, time.perf_counter() - started) | {"batch_size": batch_size}


def measure_verification(profile: bool, log: Callable[[str], None]) -> dict:
    """Timed as it runs; with ``profile``, once more under cProfile (slower) to see where the time goes."""
    from audit.verification import verify_audit_trail

    started = time.perf_counter()
    cpu = time.process_time()
    run = verify_audit_trail()
    result = rate(run.records_checked, time.perf_counter() - started)
    result.update(status=run.status, problems=run.problem_count, client_cpu_s=round(time.process_time() - cpu, 1))
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(verify_audit_trail)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(20)
        result["profile"] = text.getvalue()
        log(result["profile"])
    return result


def _last_50(field: str, value) -> int:
    """What a person's or a matter's timeline reads for its first page of 50."""
    from audit.selectors import events_for_review, keyset_page

    return len(keyset_page(events_for_review().filter(**{field: value}), size=50).events)


def measure_reads(maker: EventMaker, picks: int) -> tuple[dict, dict]:
    """Last 50 events of a person / of a matter, picked as often as they are active; interleaved."""
    rng = random.Random(SEED + 2)
    people = [maker.actors[int(len(maker.actors) * rng.random() ** 2)][0] for _ in range(picks)]
    matters = [maker.matters[int(len(maker.matters) * rng.random() ** 2)][0] for _ in range(picks)]
    samples: dict[str, list[float]] = {"read.person": [], "read.matter": []}
    rows: dict[str, list[int]] = {"read.person": [], "read.matter": []}
    for person, matter in zip(people, matters, strict=True):
        for name, field, value in (("read.person", "actor_id", person), ("read.matter", "matter_id", matter)):
            started = time.perf_counter()
            found = _last_50(field, value)
            samples[name].append((time.perf_counter() - started) * 1000)
            rows[name].append(found)
    summary = {
        name: summarise(values) | {"rows_median": statistics.median(rows[name])} for name, values in samples.items()
    }
    plans = {"read.person": _plan("actor_id", people[0]), "read.matter": _plan("matter_id", matters[0])}
    return summary, plans


def _plan(field: str, value) -> str:
    from django.db import connection

    from audit.models import AuditEvent

    queryset = AuditEvent.objects.filter(**{field: value}).order_by("-id")[:50]
    if connection.vendor == "postgresql":
        return f"{queryset.query}\n\n" + queryset.explain(analyze=True, buffers=True)
    return f"{queryset.query}\n\n" + queryset.explain()


class AuditSwitch:
    """Turns auditing off for every caller (``record_event`` does nothing and nothing is written), or
    on with a stopwatch over the audit work (building the event, the INSERT and its commit).

    ``record_event`` is imported by name in many modules, so each binding of it is
    swapped, not only ``audit.events``'s; create the switch after the request
    under test has run once, so that its modules are imported.
    """

    def __init__(self):
        from audit import events

        self.events = events
        self.original_record, self.original_write = events.record_event, events.write_events
        self.bindings = []
        for module in list(sys.modules.values()):
            try:
                names = [name for name, value in vars(module).items() if value is self.original_record]
            except TypeError:
                continue
            self.bindings += [(module, name) for name in names]
        self.seconds = 0.0
        self._depth = 0
        self.modes = {
            "on": (self.original_record, self.original_write),
            "timed": (self._timed(self.original_record), self._timed(self.original_write)),
            "off": (lambda *args, **kwargs: None, lambda events: None),
        }

    def _timed(self, function):
        def timed(*args, **kwargs):
            if self._depth:  # record_event calls write_events: count the outer call only
                return function(*args, **kwargs)
            self._depth += 1
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self._depth -= 1

        return timed

    def set(self, mode: str) -> None:
        record, write = self.modes[mode]
        for module, name in self.bindings:
            setattr(module, name, record)
        self.events.write_events = write
        self.seconds = 0.0


def _last_event_id() -> int:
    from audit.models import AuditEvent

    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def measure_request_cost(plan: AuditPlan) -> dict:
    """The matter page, alternately audited (A) and not (B), same person, same matter, same session."""
    from django.conf import settings
    from django.test import override_settings
    from django.urls import reverse

    from bench.run import _get, signed_in_client

    reader, matter = reader_and_matter()
    url = reverse("matters:detail", args=[matter.pk])
    audited, unaudited = signed_in_client(reader), signed_in_client(reader)
    with override_settings(MIDDLEWARE=[name for name in settings.MIDDLEWARE if name != AUDIT_MIDDLEWARE]):
        unaudited.handler.load_middleware()
    _get(audited, url)
    switch = AuditSwitch()
    samples: dict[str, list[float]] = {"a": [], "b": [], "diff": [], "work": []}
    events_written = {"a": [], "b": []}
    try:
        for i in range(plan.request_warmup + plan.request_pairs):
            pair = {}
            for side in ("a", "b") if i % 2 == 0 else ("b", "a"):  # alternate which goes first
                switch.set("timed" if side == "a" else "off")
                before = _last_event_id()
                started = time.perf_counter()
                _get(audited if side == "a" else unaudited, url)
                pair[side] = (time.perf_counter() - started) * 1000
                work = switch.seconds * 1000
                switch.set("on")
                written = _last_event_id() - before
                if i >= plan.request_warmup:
                    events_written[side].append(written)
                    if side == "a":
                        samples["work"].append(work)
            if i >= plan.request_warmup:
                samples["a"].append(pair["a"])
                samples["b"].append(pair["b"])
                samples["diff"].append(pair["a"] - pair["b"])
    finally:
        switch.set("on")
    a, b = summarise(samples["a"]), summarise(samples["b"])
    return {
        "url": url.replace(str(matter.pk), "<pk>"),
        "request.audited": a,
        "request.unaudited": b,
        # The cost: the median of the per-pair differences (p50), and how much the tail moved (p95).
        "request.cost": {
            "p50_ms": round(statistics.median(samples["diff"]), 3),
            "p95_ms": round(a["p95_ms"] - b["p95_ms"], 3),
            "p50_of_a_minus_p50_of_b_ms": round(a["p50_ms"] - b["p50_ms"], 3),
            "pair_difference_p95_ms": round(percentile(samples["diff"], 0.95), 3),
            "n": len(samples["diff"]),
        },
        # Timed inside the audited request: building the events, the INSERT and its commit.
        "request.audit_work": summarise(samples["work"]) if any(samples["work"]) else None,
        "events_per_request": {side: statistics.mean(values) for side, values in events_written.items()},
        "server_synchronous_commit": _setting("synchronous_commit"),
    }


def _setting(name: str) -> str:
    from django.db import connection

    if connection.vendor != "postgresql":
        return f"n/a ({connection.vendor})"
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


def _writer(maker: EventMaker, actors: list, start: threading.Barrier, stop: threading.Event, out: list) -> None:
    """Calls ``record_event`` as a job would (no request, autocommit: one committed INSERT each)."""
    from django.db import connection

    from audit.events import record_event

    rng = random.Random(threading.get_ident())
    targets = [_Target(maker.matter()) for _ in range(200)]
    latencies = []
    try:
        setting = _setting("synchronous_commit")
        start.wait()
        while not stop.is_set():
            began = time.perf_counter()
            record_event("matter.view", target=targets[rng.randrange(200)], actor=actors[rng.randrange(len(actors))])
            latencies.append((time.perf_counter() - began) * 1000)
        out.append({"events": len(latencies), "latencies": latencies, "synchronous_commit": setting})
    except Exception as exc:  # reported by the caller: a writer that dies must not pass silently
        out.append({"error": repr(exc)})
    finally:
        connection.close()


def run_writers(
    maker: EventMaker, writers: int, seconds: float, alongside: Callable[[threading.Event], None] | None = None
) -> dict:
    """``writers`` threads inserting for ``seconds``. ``alongside`` runs in one more thread
    meanwhile, and is told (its event set) when the writers have stopped."""
    from access.models import User

    actors = list(User.objects.filter(pk__in=[pk for pk, _name in maker.actors[:100]]))
    start, stop, done, out = threading.Barrier(writers + 1), threading.Event(), threading.Event(), []
    threads = [threading.Thread(target=_writer, args=(maker, actors, start, stop, out)) for _ in range(writers)]
    helper = threading.Thread(target=alongside, args=(done,)) if alongside else None
    for thread in threads + ([helper] if helper else []):
        thread.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    done.set()
    if helper:
        helper.join()
    errors = [entry["error"] for entry in out if "error" in entry]
    if errors:
        raise BenchSetupError(f"a writer failed: {errors[0]}")
    latencies = [value for entry in out for value in entry["latencies"]]
    result = rate(len(latencies), elapsed) | {"writers": writers}
    result["insert"] = summarise(latencies) if latencies else None
    result["synchronous_commit"] = sorted({entry["synchronous_commit"] for entry in out})
    return result


def measure_backlog(maker: EventMaker, plan: AuditPlan) -> dict[str, dict]:
    """A fresh backlog of ``plan.backlog`` events per batch size, chained in one go."""
    results = {}
    chain_all(5000)  # what earlier phases left: not part of the backlog
    for batch_size in plan.batch_sizes:
        now = datetime.datetime.now(datetime.UTC)
        insert_events(maker, plan.backlog, now - datetime.timedelta(minutes=10), now - datetime.timedelta(minutes=1))
        results[f"sequencer.batch_{batch_size}"] = chain_all(batch_size)
    # The target is for the first batch size: the beat job's (1,000) at full scale.
    results["sequencer"] = results[f"sequencer.batch_{plan.batch_sizes[0]}"]
    return results


def measure_lag(maker: EventMaker, plan: AuditPlan) -> dict:
    """The sequencer every ``lag_interval`` seconds while the writers insert: time from event to link."""
    from django.db import OperationalError, connection

    from audit.chain import chain_pending_events, pending_count
    from audit.models import AuditLink

    chain_all(5000)
    first_id = _last_event_id()
    runs: list[dict] = []

    failures: list[Exception] = []

    def sequencer(writers_done: threading.Event) -> None:
        from django.conf import settings

        drain_until = None
        try:
            while True:
                began = time.perf_counter()
                try:
                    chained = chain_pending_events().chained
                except OperationalError:
                    if connection.vendor == "postgresql":
                        raise
                    chained = 0  # SQLite: "database is locked" while a writer commits; the next run goes on
                runs.append({"chained": chained, "seconds": time.perf_counter() - began})
                if writers_done.is_set():  # drain what the writers left, then stop
                    drain_until = drain_until or began + settings.AUDIT_GAP_GRACE_SECONDS + 5
                    if pending_count() == 0 or began > drain_until:
                        return
                time.sleep(plan.lag_interval)
        except Exception as exc:  # raised below, in the calling thread
            failures.append(exc)
        finally:
            connection.close()

    writers = run_writers(maker, plan.writers, plan.lag_seconds, alongside=sequencer)
    if failures:
        raise failures[0]
    pairs = AuditLink.objects.filter(event_id__gt=first_id).values_list("chained_at", "event__occurred_at")
    lags = [(chained - occurred).total_seconds() * 1000 for chained, occurred in pairs]
    busy = sum(run["seconds"] for run in runs)
    chained = sum(run["chained"] for run in runs)
    return {
        "interval_s": plan.lag_interval,
        "writers": writers,
        "lag": summarise(lags) if lags else None,
        "unchained_after": pending_count(),
        "sequencer_runs": len(runs),
        "sequencer_busy_events_per_s": round(chained / busy) if busy else 0,
    }


# --- Facts and report -----------------------------------------------------------------------


def facts() -> dict:
    from django.db import connection

    from audit.models import AuditEvent

    result = {"vendor": connection.vendor, "cpus": os.cpu_count(), "python": sys.version.split()[0]}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
                [SERVER_SETTINGS],
            )
            result.update(dict(cursor.fetchall()))
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('audit_event')), "
                "pg_size_pretty(pg_total_relation_size('audit_link')), "
                "(SELECT reltuples::bigint FROM pg_class WHERE relname = 'audit_event')"
            )
            result["audit_event_size"], result["audit_link_size"], result["events_estimate"] = cursor.fetchone()
    else:
        result["events_estimate"] = AuditEvent.objects.count()
    result["database"] = connection.settings_dict["NAME"]
    return result


def evaluate(measurements: dict) -> list[dict]:
    targets = []
    for label, name, stat, limit, higher_is_better in TARGETS:
        value = (measurements.get(name) or {}).get(stat)
        if value is None:
            continue
        passed = value >= limit if higher_is_better else value <= limit
        targets.append({"target": label, "measurement": name, "value": value, "limit": limit, "passed": passed})
    return targets


def format_report(result: dict) -> str:
    m, f = result["measurements"], result["facts"]
    server = f"PostgreSQL {f['server_version']}" if f["vendor"] == "postgresql" else f["vendor"]
    lines = [
        "",
        f"Audit benchmark · {server} · {f['cpus']} CPUs · synchronous_commit {f.get('synchronous_commit', 'n/a')} · "
        f"load average {result['load_average']['before']:.1f} before, {result['load_average']['after']:.1f} after",
        f"events in the table at the end ≈ {f['events_estimate']:,}"
        + (f" ({f['audit_event_size']}, links {f['audit_link_size']})" if "audit_event_size" in f else ""),
        "",
        f"{'measurement':<58}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}",
    ]
    request = m["request"]
    for key, label in (
        ("request.audited", f"GET {request['url']} audited (A)"),
        ("request.unaudited", f"GET {request['url']} without auditing (B)"),
        ("request.audit_work", "  audit work inside A (build + INSERT + commit)"),
    ):
        if request.get(key):
            row = request[key]
            lines.append(f"{label:<58}{row['p50_ms']:>10.2f}{row['p95_ms']:>10.2f}{row['max_ms']:>10.2f}")
    cost = request["request.cost"]
    lines.append(
        f"{'  cost: median(A-B) per pair · p95(A)-p95(B)':<58}{cost['p50_ms']:>10.2f}{cost['p95_ms']:>10.2f}"
        f"   (p50(A)-p50(B) {cost['p50_of_a_minus_p50_of_b_ms']:.2f}, p95 of pair differences "
        f"{cost['pair_difference_p95_ms']:.2f}; events per request A {request['events_per_request']['a']:.2f}, "
        f"B {request['events_per_request']['b']:.2f})"
    )
    for key, label in (("read.person", "last 50 events of a person"), ("read.matter", "last 50 events of a matter")):
        row = m[key]
        lines.append(
            f"{label + ' (median ' + str(row['rows_median']) + ' rows)':<58}{row['p50_ms']:>10.2f}"
            f"{row['p95_ms']:>10.2f}{row['max_ms']:>10.2f}"
        )
    ingest = m["ingest"]
    lines += [
        "",
        f"{'throughput':<58}{'events':>10}{'seconds':>10}{'events/s':>10}",
        f"{'ingest, ' + str(ingest['writers']) + ' writers, record_event + commit':<58}{ingest['events']:>10,}"
        f"{ingest['seconds']:>10.1f}{ingest['events_per_s']:>10,}",
    ]
    for key, label in [("chain.initial", "sequencer, chaining the generated events")] + [
        (name, f"sequencer, backlog, batch {m[name]['batch_size']:,}") for name in m if name.startswith("sequencer.")
    ]:
        if m.get(key):
            row = m[key]
            lines.append(f"{label:<58}{row['events']:>10,}{row['seconds']:>10.1f}{row['events_per_s']:>10,}")
    verify = m["verify"]
    lines.append(
        f"{'verification (' + verify['status'] + ', ' + str(verify['problems']) + ' problems)':<58}"
        f"{verify['events']:>10,}{verify['seconds']:>10.1f}{verify['events_per_s']:>10,}"
    )
    lag = m["lag"]
    if lag["lag"]:
        lines.append(
            f"chaining lag, sequencer every {lag['interval_s']} s under {lag['writers']['writers']} writers "
            f"({lag['writers']['events_per_s']:,} events/s): p50 {lag['lag']['p50_ms']:.0f} ms, "
            f"p95 {lag['lag']['p95_ms']:.0f} ms, max {lag['lag']['max_ms']:.0f} ms"
        )
    lines += ["", "Targets (issue 3):"]
    for target in result["targets"]:
        verdict = "PASS" if target["passed"] else "FAIL"
        lines.append(f"  {verdict}  {target['target']:<46} measured {target['value']:,}")
    for name, plan in result["explain"].items():
        lines += ["", f"EXPLAIN · {name}", plan]
    return "\n".join(lines)


def run_audit_benchmark(
    *,
    plan: AuditPlan | None = None,
    generate_data: bool = True,
    profile: bool = False,
    output_dir: Path = RESULTS_DIR,
    log: Callable[[str], None] = print,
) -> dict:
    """Generate (unless told not to) and measure in the connected database; print and write the JSON."""
    plan = plan or AuditPlan()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    m: dict = {}
    if generate_data:
        log(f"Generating {plan.events:,} events ({plan.actors:,} people, {plan.matters:,} matters) …")
        m["generate"] = generate(plan, log)
    maker = ensure_world(plan)
    log("Chaining them (batch 1,000, as the beat job does) …")
    m["chain.initial"] = chain_all(1000)
    analyze()
    log("Verifying …")
    m["verify"] = measure_verification(profile, log)
    log(f"Reading the last 50 events, {plan.read_picks} people and {plan.read_picks} matters …")
    reads, plans = measure_reads(maker, plan.read_picks)
    m.update(reads)
    log(f"Request cost, {plan.request_pairs} pairs (+{plan.request_warmup} warm-up) …")
    m["request"] = measure_request_cost(plan)
    m["request.cost"] = m["request"]["request.cost"]
    log(f"Ingest, {plan.writers} writers for {plan.ingest_seconds} s …")
    m["ingest"] = run_writers(maker, plan.writers, plan.ingest_seconds)
    log(f"Sequencer on a backlog of {plan.backlog:,} events per batch size …")
    m.update(measure_backlog(maker, plan))
    log(f"Chaining lag, {plan.writers} writers for {plan.lag_seconds} s …")
    m["lag"] = measure_lag(maker, plan)
    result = {
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "plan": asdict(plan),
        # Other work on the machine inflates the tail; the 1-minute load average says how much there was.
        "load_average": {"before": load_before, "after": os.getloadavg()[0]},
        "facts": facts(),
        "measurements": m,
        "targets": evaluate(m),
        "explain": plans,
    }
    log(format_report(result))
    path = write_json(result, output_dir, name="audit")
    result["json_path"] = str(path)
    log(f"\nResults written to {path}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__.split("\n\n")[0])
    defaults = AuditPlan()
    parser.add_argument("--database", default=DEFAULT_DATABASE, help=f"database to use (default {DEFAULT_DATABASE})")
    parser.add_argument("--events", type=int, default=defaults.events, help="events to generate (default 1,000,000)")
    parser.add_argument("--pairs", type=int, default=defaults.request_pairs, help="request pairs A/B (default 500)")
    parser.add_argument("--ingest-seconds", type=float, default=defaults.ingest_seconds)
    parser.add_argument("--backlog", type=int, default=defaults.backlog, help="sequencer backlog (default 200,000)")
    parser.add_argument("--lag-seconds", type=float, default=defaults.lag_seconds)
    parser.add_argument("--lag-interval", type=float, default=defaults.lag_interval, help="sequencer period, s")
    parser.add_argument("--skip-generate", action="store_true", help="reuse the events already in the database")
    parser.add_argument("--profile", action="store_true", help="profile the verification (cProfile)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="folder for the JSON result")
    args = parser.parse_args(argv)
    plan = replace(
        defaults,
        events=args.events,
        request_pairs=args.pairs,
        ingest_seconds=args.ingest_seconds,
        backlog=args.backlog,
        lag_seconds=args.lag_seconds,
        lag_interval=args.lag_interval,
    )
    try:
        prepare(database_url(), args.database, recreate=not args.skip_generate)
        result = run_audit_benchmark(
            plan=plan, generate_data=not args.skip_generate, profile=args.profile, output_dir=args.output
        )
    except BenchSetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    return 0 if all(target["passed"] for target in result["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
