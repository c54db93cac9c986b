"""The sequencer: events are chained off the request path, in id order, in batches, once.

The helpers at the top (``Target``, ``record``, ``record_with_ids``,
``tampering``, ``chained``) are shared by the other chain test modules.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import uuid

import pytest
from django.core.management.color import no_style
from django.db import connection
from django.utils import timezone

from audit import chain
from audit.actions import AuditAction
from audit.chain import GENESIS, chain_head, chain_pending_events, link_hash, pending_count
from audit.events import build_event, record_event
from audit.models import AuditEvent, AuditLink

pytestmark = pytest.mark.django_db


class Target:
    """An audited object as services hand it over: identifiers and labels only."""

    def __init__(self, number: int = 1):
        self.ids = {"client_id": uuid.uuid4(), "matter_id": uuid.uuid4(), "document_id": uuid.uuid4()}
        self.number = number

    def audit_target(self) -> dict:
        return {**self.ids, "client_code": "C-00001", "matter_number": f"2026-T-{self.number:05d}"}


def record(count: int, action: str = AuditAction.DOCUMENT_VIEW) -> list[AuditEvent]:
    """``count`` events recorded the way every service records them."""
    return [record_event(action, target=Target(n), reason=f"event {n}") for n in range(count)]


def record_with_ids(ids) -> list[AuditEvent]:
    """Events with chosen ids, so a gap (a rolled-back insert) is the same on every database."""
    events = []
    for n, event_id in enumerate(ids):
        event = build_event(
            AuditAction.MATTER_VIEW, outcome="success", target=Target(n), actor=None, reason="", detail=None,
            request=None,
        )  # fmt: skip
        event.id = event_id
        event.save(force_insert=True)
        events.append(event)
    with connection.cursor() as cursor:  # PostgreSQL: later ids come after these
        for sql in connection.ops.sequence_reset_sql(no_style(), [AuditEvent]):
            cursor.execute(sql)
    return events


def next_event_id() -> int:
    """An id no event has had, with room after it (PostgreSQL's sequence is not reset between tests)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence('audit_event', 'id'))")
            return cursor.fetchone()[0]
    return (AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1


def chain_from(event_id: int) -> None:
    """A chain whose head is the event ``event_id``, whatever came before it."""
    record_with_ids([event_id])
    chain_pending_events(now=timezone.now() + datetime.timedelta(days=1))


@contextlib.contextmanager
def tampering():
    """A cursor of a database superuser who has switched the append-only triggers off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")


def chained() -> list[tuple[int, int, bytes]]:
    return [(seq, event_id, bytes(h)) for seq, event_id, h in AuditLink.objects.order_by("seq").values_list(
        "seq", "event_id", "hash")]  # fmt: skip


@pytest.fixture(autouse=True)
def _no_gap_grace(settings):
    settings.AUDIT_GAP_GRACE_SECONDS = 0


def test_each_link_hashes_the_previous_link_and_the_events_stored_bytes():
    events = record(3)
    assert chain_pending_events().chained == 3
    previous = GENESIS
    for (_seq, event_id, stored), event in zip(chained(), events, strict=True):
        expected = hashlib.sha256(previous + hashlib.sha256(bytes(event.payload)).digest()).digest()
        assert (event_id, stored) == (event.id, expected)
        assert link_hash(previous, bytes(event.payload)) == expected
        previous = stored
    assert [seq for seq, _e, _h in chained()] == [1, 2, 3]
    assert chain_head() == (3, previous, events[-1].id)


def test_recording_does_not_chain_the_sequencer_does():
    record(4)
    assert AuditLink.objects.count() == 0
    assert pending_count() == 4
    result = chain_pending_events()
    assert (result.chained, result.head_seq, result.busy) == (4, 4, False)
    assert pending_count() == 0


def test_an_empty_chain_has_the_genesis_head():
    assert chain_head() == (0, GENESIS, 0)
    assert chain_pending_events().chained == 0


def test_chaining_again_changes_nothing():
    record(3)
    chain_pending_events()
    before = chained()
    result = chain_pending_events()
    assert (result.chained, result.head_seq) == (0, 3)
    assert chained() == before
    assert result.as_counts() == {"chained": 0}


def test_later_events_extend_the_chain_from_its_head():
    first = record(2)
    chain_pending_events()
    later = record(3)
    assert chain_pending_events().chained == 3
    assert [event_id for _s, event_id, _h in chained()] == [e.id for e in first + later]
    assert chained()[2][2] == link_hash(chained()[1][2], bytes(later[0].payload))


def test_events_are_chained_in_id_order_whatever_order_they_were_written_in():
    base = next_event_id()
    record_with_ids([base + 2, base, base + 3, base + 1])
    chain_pending_events()
    assert [event_id for _s, event_id, _h in chained()] == [base, base + 1, base + 2, base + 3]


def test_batches_are_respected():
    record(25)
    first = chain_pending_events(batch_size=10, max_batches=1)
    assert (first.chained, first.head_seq) == (10, 10)
    assert AuditLink.objects.count() == 10
    second = chain_pending_events(batch_size=10, max_batches=1)
    assert (second.chained, second.head_seq) == (10, 20)
    rest = chain_pending_events(batch_size=10)
    assert (rest.chained, rest.head_seq) == (5, 25)
    assert [seq for seq, _e, _h in chained()] == list(range(1, 26))


def test_a_long_backlog_is_chained_in_several_batches_in_one_call(monkeypatch):
    record(23)
    batches = []
    original = chain._chain_one_batch

    def counting(batch_size, now, result):
        batches.append(result.chained)
        return original(batch_size, now, result)

    monkeypatch.setattr(chain, "_chain_one_batch", counting)
    result = chain_pending_events(batch_size=5)
    assert result.chained == 23
    # Five full batches, and the short one that says the backlog is done.
    assert batches == [0, 5, 10, 15, 20]


class TestGaps:
    """An id below a visible one may still be in flight: wait for it, then move on."""

    @pytest.fixture(autouse=True)
    def base(self, settings):
        settings.AUDIT_GAP_GRACE_SECONDS = 30
        base = next_event_id()
        chain_from(base)
        return base

    def test_a_gap_is_waited_for_within_the_grace_period(self, base):
        record_with_ids([base + 2, base + 3])
        result = chain_pending_events(now=timezone.now())
        assert (result.chained, result.waiting_for_gap) == (0, True)
        assert pending_count() == 2

    def test_a_gap_that_fills_within_the_grace_period_is_chained_in_order(self, base):
        record_with_ids([base + 1, base + 3])
        assert chain_pending_events(now=timezone.now()).chained == 1
        record_with_ids([base + 2])  # the slow transaction commits
        result = chain_pending_events(now=timezone.now())
        assert (result.chained, result.waiting_for_gap) == (2, False)
        assert [event_id for _s, event_id, _h in chained()] == [base, base + 1, base + 2, base + 3]

    def test_a_gap_is_passed_once_the_grace_period_is_over(self, base):
        record_with_ids([base + 2, base + 3])
        result = chain_pending_events(now=timezone.now() + datetime.timedelta(seconds=31))
        assert (result.chained, result.waiting_for_gap) == (2, False)
        assert [(seq, event_id) for seq, event_id, _h in chained()] == [(1, base), (2, base + 2), (3, base + 3)]

    def test_the_grace_counts_from_when_the_later_event_was_written(self, base):
        record_with_ids([base + 2])
        just_within = timezone.now() + datetime.timedelta(seconds=25)
        assert chain_pending_events(now=just_within).chained == 0
        assert chain_pending_events(now=just_within + datetime.timedelta(seconds=10)).chained == 1

    def test_an_event_arriving_after_its_gap_was_passed_is_never_chained(self, base):
        record_with_ids([base + 2])
        chain_pending_events(now=timezone.now() + datetime.timedelta(seconds=31))
        record_with_ids([base + 1])
        assert pending_count() == 0
        assert chain_pending_events(now=timezone.now() + datetime.timedelta(seconds=31)).chained == 0
        assert not AuditLink.objects.filter(event_id=base + 1).exists()  # verification names it (test_tamper)


def test_a_sequencer_that_loses_the_race_for_a_position_chains_nothing(monkeypatch):
    """SQLite has no advisory lock: two sequencers reading the same head collide on
    the position's primary key, and the loser leaves the work to the winner."""
    record(2)
    chain_pending_events()
    record(1)
    monkeypatch.setattr(chain, "chain_head", lambda: (0, GENESIS, 0))  # a stale view of the head
    result = chain_pending_events()
    assert (result.chained, result.busy) == (0, True)
    assert result.as_counts() == {"chained": 0, "busy": 1}
    monkeypatch.undo()
    assert [seq for seq, _e, _h in chained()] == [1, 2]
    assert chain_pending_events().chained == 1


def test_the_periodic_job_reports_what_it_chained():
    from audit.services import chain_events

    record(2)
    assert chain_events() == {"chained": 2}
    assert chain_events() == {"chained": 0}
