"""The hash chain: one sequencer links new events in batches, off the request path.

Each link's hash covers the previous link's hash and the SHA-256 of the event's
canonical bytes, so changing, removing, inserting or reordering any record
breaks every hash after it. Chaining inline under a lock collapses to a few
hundred events per second with concurrent writers; one sequencer working in
batches keeps up with tens of thousands (DESIGN.md, Audit; bench/README.md).

Events are chained in id order. Ids come from a sequence, so a lower id can
still be in flight (its INSERT not yet committed) when a higher one is visible;
the sequencer waits for such a gap to fill and moves past it only after
``AUDIT_GAP_GRACE_SECONDS`` (an id is also lost for good when its transaction
rolls back). An event that appears below the chain's head afterwards was
inserted behind the chain's back, and verification names it.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.models import AuditEvent, AuditLink

GENESIS = bytes(32)
# Any constant; it names "the audit sequencer" among PostgreSQL advisory locks.
SEQUENCER_LOCK = 0x0C057_0A0D17


def link_hash(previous: bytes, payload: bytes) -> bytes:
    return hashlib.sha256(previous + hashlib.sha256(payload).digest()).digest()


@dataclass
class ChainResult:
    chained: int = 0
    busy: bool = False
    head_seq: int = 0
    waiting_for_gap: bool = False

    def as_counts(self) -> dict[str, int]:
        return {"chained": self.chained, **({"busy": 1} if self.busy else {})}


def chain_head() -> tuple[int, bytes, int]:
    """(seq, hash, event id) of the last link; (0, GENESIS, 0) for an empty chain."""
    head = AuditLink.objects.order_by("-seq").values_list("seq", "hash", "event_id").first()
    if head is None:
        return 0, GENESIS, 0
    return head[0], bytes(head[1]), head[2]


def chain_pending_events(*, batch_size: int = 1000, max_batches: int | None = None, now=None) -> ChainResult:
    """Link every event not yet in the chain; only one sequencer works at a time.

    Each batch is its own transaction holding the sequencer lock, so a long
    backlog is committed as it goes. Returns how many events were chained;
    ``busy`` when another sequencer held the lock.
    """
    result = ChainResult()
    batches = 0
    while max_batches is None or batches < max_batches:
        done = _chain_one_batch(batch_size, now, result)
        batches += 1
        if done:
            break
    return result


def _chain_one_batch(batch_size: int, now, result: ChainResult) -> bool:
    """One batch; True when there is nothing more to do now."""
    try:
        with transaction.atomic():
            if not _take_sequencer_lock():
                result.busy = True
                return True
            seq, previous, last_event = chain_head()
            rows = list(
                AuditEvent.objects.filter(id__gt=last_event).order_by("id").values_list("id", "payload")[:batch_size]
            )
            links = []
            chained_at = timezone.now()
            grace = datetime.timedelta(seconds=settings.AUDIT_GAP_GRACE_SECONDS)
            for event_id, payload in rows:
                if event_id != last_event + 1 and _written_after(event_id, (now or chained_at) - grace):
                    # A lower id may still commit: wait for it (see the module docstring).
                    result.waiting_for_gap = True
                    break
                seq += 1
                previous = link_hash(previous, bytes(payload))
                links.append((seq, event_id, previous))
                last_event = event_id
            _insert_links(links, chained_at)
    except IntegrityError:
        # SQLite has no advisory lock: a second sequencer racing for the same
        # positions loses on the primary key and leaves the work to the first.
        result.busy = True
        return True
    result.chained += len(links)
    result.head_seq = seq
    return len(links) < batch_size


def _written_after(event_id: int, moment) -> bool:
    """Asked only at a gap in the ids (rare), so the batch's rows need not carry the time."""
    return AuditEvent.objects.filter(pk=event_id, recorded_at__gt=moment).exists()


def _insert_links(links: list[tuple[int, int, bytes]], chained_at) -> None:
    """The batch in one INSERT. On PostgreSQL the rows travel as three arrays: a
    thousand-row VALUES list cost more to build, send and parse than to store
    (the sequencer ran three times slower; bench/README.md, Audit)."""
    if not links:
        return
    if connection.vendor != "postgresql":
        AuditLink.objects.bulk_create(AuditLink(seq=s, event_id=e, hash=h, chained_at=chained_at) for s, e, h in links)
        return
    seqs, event_ids, hashes = (list(column) for column in zip(*links, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AuditLink._meta.db_table} (seq, event_id, hash, chained_at) "  # noqa: S608 — our table
            "SELECT s, e, h, %s FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[]) AS u(s, e, h)",
            [chained_at, seqs, event_ids, hashes],
        )


def _take_sequencer_lock() -> bool:
    """PostgreSQL: a transaction-scoped advisory lock, released at commit. SQLite
    serialises writers itself, and the primary key on ``seq`` forbids a fork."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEQUENCER_LOCK])
        return bool(cursor.fetchone()[0])


def pending_count() -> int:
    """Events awaiting chaining."""
    _seq, _hash, last_event = chain_head()
    return AuditEvent.objects.filter(id__gt=last_event).count()
