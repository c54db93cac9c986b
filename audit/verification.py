"""Verification of the audit trail: the chain, the events' fields, and the signed checkpoints.

Walks the chain in order, streaming, and checks each link locally — its hash
must follow from the previous link's stored hash and its event's stored bytes —
so every broken record is named, not only the first. A record that fails is
compared with the few before it, to say whether it was altered, swapped with
one of them, or follows records slipped in before it. Then checks that each
event's filter columns still say what its bytes say, that no event sits below
the chain's head outside it, and that every checkpoint (stored, and optionally
from an exported file) is signed by a trusted key and matches the chain.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import queue
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import signing
from audit.chain import GENESIS, chain_head, link_hash
from audit.checkpoints import checkpoint_message
from audit.models import AuditCheckpoint, AuditVerification, VerificationStatus

# What a finding means, for the people reading it.
FINDINGS = {
    "altered_record": _(
        "The record does not follow from the one before it: it was altered, or a record before it was removed."
    ),
    "inserted_record": _("The record was inserted: the record after it still follows from the one before it."),
    "missing_link": _("The chain has no record at this position: it was removed."),
    "missing_event": _("The chain names an event that is no longer there: it was deleted."),
    "fields_disagree": _("The event's searchable fields no longer match its recorded bytes: a field was modified."),
    "out_of_order": _("The event is out of order in the chain: records were swapped or moved."),
    "unchained_event": _(
        "An event sits below the chain's head without being in the chain: it was inserted afterwards."
    ),
    "bad_signature": _("A checkpoint's signature is not valid for any trusted key."),
    "checkpoint_mismatch": _("A signed checkpoint does not match the chain at its position: the chain was rewritten."),
    "checkpoint_beyond_head": _(
        "A signed checkpoint lies beyond the end of the chain: records were removed from the end."
    ),
    "checkpoint_missing": _("A checkpoint in the exported file is missing from the database."),
}
MAX_FINDINGS = 200
CHUNK = 5000
# How many records back an insertion or a swap is recognised (beyond, each end is named as altered).
WINDOW = 16


@dataclass
class _Walk:
    findings: list[dict] = field(default_factory=list)
    records: int = 0
    hashes_at: dict[int, bytes] = field(default_factory=dict)
    head_seq: int = 0
    count: int = 0

    def add(self, code: str, seq: int | None = None, event: int | None = None, **more) -> int:
        """Note a finding; returns its index (-1 once past the limit, when it is only counted)."""
        self.count += 1
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append({"code": code, "seq": seq, "event": event, **more})
            return len(self.findings) - 1
        return -1


def describe(finding: dict) -> str:
    return str(FINDINGS.get(finding.get("code"), finding.get("code")))


def verify_audit_trail(
    *, file_checkpoints: list[dict] | None = None, file_name: str = "", requested_by=None
) -> AuditVerification:
    """Verify everything and record the result (also when it cannot finish)."""
    run = AuditVerification.objects.create(requested_by=requested_by, checkpoint_file=file_name[:255])
    try:
        walk, checkpoints_checked = _verify(file_checkpoints or [])
    except Exception as exc:
        run.status, run.finished_at = VerificationStatus.ERROR, timezone.now()
        run.findings = [{"code": "error", "detail": type(exc).__name__}]
        run.save(update_fields=["status", "finished_at", "findings"])
        raise
    ordered = sorted(walk.findings, key=lambda f: (f["seq"] is None, f["seq"] or 0))
    run.status = VerificationStatus.PASSED if walk.count == 0 else VerificationStatus.FAILED
    run.finished_at = timezone.now()
    run.records_checked = walk.records
    run.checkpoints_checked = checkpoints_checked
    run.problem_count = walk.count
    run.findings = ordered
    if ordered:
        run.first_problem = ordered[0]["code"]
        run.first_broken_seq = ordered[0]["seq"]
        run.first_broken_event = ordered[0]["event"]
    run.save()
    return run


def _verify(file_checkpoints: list[dict]) -> tuple[_Walk, int]:
    stored = list(AuditCheckpoint.objects.order_by("seq"))
    wanted = {c.seq for c in stored} | {c["seq"] for c in file_checkpoints}
    walk = _Walk()
    with transaction.atomic():  # one consistent snapshot (PostgreSQL: REPEATABLE READ is not needed for a prefix)
        _walk_chain(walk, wanted)
        _find_unchained(walk)
    checked = 0
    for checkpoint in stored:
        checked += 1
        _check_checkpoint(
            walk, checkpoint.seq, bytes(checkpoint.head_hash), checkpoint.signed_at, checkpoint.key_id,
            bytes(checkpoint.signature),
        )  # fmt: skip
    stored_keys = {(c.seq, bytes(c.head_hash)) for c in stored}
    for item in file_checkpoints:
        checked += 1
        _check_checkpoint(walk, item["seq"], item["head_hash"], item["signed_at"], item["key_id"], item["signature"])
        if (item["seq"], item["head_hash"]) not in stored_keys:
            walk.add("checkpoint_missing", item["seq"], checkpoint=item["seq"])
    return walk, checked


def _check_checkpoint(walk: _Walk, seq, head_hash, signed_at, key_name, signature) -> None:
    if not signing.verify_signature(key_name, signature, checkpoint_message(seq, head_hash, signed_at)):
        walk.add("bad_signature", seq, checkpoint=seq)
    elif seq > walk.head_seq:
        # The first record missing is the one after the chain's end, not the checkpoint's position.
        walk.add("checkpoint_beyond_head", walk.head_seq + 1, checkpoint=seq)
    elif walk.hashes_at.get(seq) != head_hash:
        walk.add("checkpoint_mismatch", seq, checkpoint=seq)


_UUID_COLUMNS = ("client_id", "matter_id", "document_id")
_COLUMNS = ("occurred_at", "action", "outcome", "actor_id", "session_ref", "ip_address", "client_id", "matter_id",
            "document_id")  # fmt: skip


@dataclass(slots=True)
class _Seen:
    """A recent record of the walk, kept to tell an insertion or a swap from an alteration."""

    seq: int
    before: bytes | None  # the hash it should follow from (None right after a removed link)
    hash: bytes
    payload: bytes | None
    event: int | None
    finding: int | None  # the index of its chain finding when it failed (-1: past the limit)


def _walk_chain(walk: _Walk, wanted: set[int]) -> None:
    # UUIDs as text: compared with the record's text as they are, not parsed on both sides.
    columns = ", ".join(f"CAST(e.{name} AS text)" if name in _UUID_COLUMNS else f"e.{name}" for name in _COLUMNS)
    if connection.vendor == "postgresql":
        # The address as PostgreSQL prints it (as psycopg would read it), without building an object per row.
        columns = columns.replace("e.ip_address", "abbrev(e.ip_address)")
    sql = f"SELECT l.seq, l.hash, l.event_id, e.id, e.payload, {columns} FROM audit_link l "  # noqa: S608 — our own column names
    sql += "LEFT JOIN audit_event e ON e.id = l.event_id ORDER BY l.seq"
    expected_seq = 1
    previous = GENESIS  # the hash the next record should follow from: the previous link's, as stored
    recent: deque[_Seen] = deque(maxlen=WINDOW)
    previous_event = 0
    cursor = _streaming_cursor()
    try:
        cursor.execute(sql)
        for rows in _chunks(cursor):
            for seq, stored_hash, event_ref, event_id, payload, *columns in rows:
                stored_hash = bytes(stored_hash)
                walk.records += 1
                after_gap = seq != expected_seq
                if after_gap:
                    walk.add("missing_link", expected_seq)
                    recent.clear()  # nothing before a removed link can be compared across it
                expected_seq = seq + 1
                if seq in wanted:
                    walk.hashes_at[seq] = stored_hash
                seen = _Seen(seq, None if after_gap else previous, stored_hash, None, event_ref, None)
                carry = stored_hash
                if event_id is None:
                    seen.finding = walk.add("missing_event", seq, event_ref)
                else:
                    seen.payload = bytes(payload)
                    swapped = False
                    # Right after a removed link, the break is that removal's, already named.
                    if not after_gap and link_hash(previous, seen.payload) != stored_hash:
                        swapped, carry = _name_break(walk, recent, seen)
                    if swapped:
                        seen.finding = walk.add("out_of_order", seq, event_id)
                    elif event_id <= previous_event:
                        walk.add("out_of_order", seq, event_id)
                    if not _fields_agree(seen.payload, columns):
                        walk.add("fields_disagree", seq, event_id)
                    previous_event = event_id
                recent.append(seen)
                previous = carry
            walk.head_seq = expected_seq - 1
    finally:
        cursor.close()


def _name_break(walk: _Walk, recent: deque[_Seen], seen: _Seen) -> tuple[bool, bytes]:
    """Name a record that does not follow from the one before it, as far as the recent
    records tell: swapped with one of them, slipped in after them, or altered.

    Returns whether it was swapped, and the hash the next record should follow from.
    """
    payload, stored_hash = seen.payload, seen.hash
    for earlier in reversed(recent):
        if earlier.finding is None or earlier.payload is None or earlier.before is None:
            continue
        follows_earlier_place = link_hash(earlier.before, payload)
        if follows_earlier_place == earlier.hash and link_hash(seen.before, earlier.payload) == stored_hash:
            # The two records traded contents (or their links traded events): each holds the other's bytes.
            _recode(walk, earlier, "out_of_order")
            return True, stored_hash
        if (
            earlier.seq == seen.seq - 1
            and follows_earlier_place == stored_hash
            and link_hash(stored_hash, earlier.payload) == earlier.hash
        ):
            # Two neighbouring links traded places, hashes and all: the chain goes on from the earlier one.
            _recode(walk, earlier, "out_of_order")
            return True, earlier.hash
    for back in range(1, len(recent) + 1):
        earlier = recent[-back]
        if earlier.before is not None and link_hash(earlier.before, payload) == stored_hash:
            # This record still follows one further back: the records between were slipped in.
            for inserted in list(recent)[-back:]:
                if inserted.finding is None:
                    inserted.finding = walk.add("inserted_record", inserted.seq, inserted.event)
                else:
                    _recode(walk, inserted, "inserted_record")
            return False, stored_hash
    seen.finding = walk.add("altered_record", seen.seq, seen.event)
    return False, stored_hash


def _recode(walk: _Walk, seen: _Seen, code: str) -> None:
    """Say more precisely what happened to a record already named as broken."""
    if seen.finding is not None and seen.finding >= 0:
        finding = walk.findings[seen.finding]
        if finding["code"] in {"altered_record", "out_of_order"}:
            finding["code"] = code


def _streaming_cursor():
    """A server-side cursor; on PostgreSQL a binary one, so bytea and timestamps arrive as
    stored rather than as text to decode (about a quarter of the walk's time otherwise)."""
    if connection.vendor == "postgresql":
        from django.db.backends.postgresql.psycopg_any import is_psycopg3

        if is_psycopg3:
            connection.ensure_connection()
            return connection.connection.cursor(name="audit_verification", binary=True)
    return connection.chunked_cursor()


def _chunks(cursor):
    """The rows, a chunk at a time. On PostgreSQL a thread fetches the next chunk while
    this one is checked, so the database's share of the walk overlaps ours (the walk took
    about 40% longer without it; bench/README.md, Audit). It makes no other query meanwhile."""
    if connection.vendor != "postgresql":
        while rows := cursor.fetchmany(CHUNK):
            yield rows
        return
    ahead: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(item) -> bool:
        """Hand ``item`` to the walk; False once the walk has stopped taking."""
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            while offer(rows := cursor.fetchmany(CHUNK)) and rows:  # the last chunk offered is empty: the end
                pass
        except Exception as exc:  # handed to the walk, which raises it
            offer(exc)

    fetcher = threading.Thread(target=fetch, name="audit-verification-fetch", daemon=True)
    fetcher.start()
    try:
        while rows := ahead.get():
            if isinstance(rows, Exception):
                raise rows
            yield rows
    finally:
        stop.set()
        fetcher.join()


def _fields_agree(payload: bytes, columns) -> bool:
    try:
        record = json.loads(payload.decode())
        occurred_at, action, outcome, actor_id, session, ip, client_id, matter_id, document_id = columns
        if isinstance(occurred_at, str):  # SQLite hands back text
            occurred_at = datetime.datetime.fromisoformat(occurred_at)
        if occurred_at.tzinfo is None:
            occurred_at = occurred_at.replace(tzinfo=datetime.UTC)
        return (
            datetime.datetime.fromisoformat(record["at"]) == occurred_at
            and record["action"] == action
            and record["outcome"] == outcome
            and record["actor_id"] == actor_id
            and record["session"] == session
            and _same_ip(record["ip"], ip)
            and _same_uuid(record["client_id"], client_id)
            and _same_uuid(record["matter_id"], matter_id)
            and _same_uuid(record["document_id"], document_id)
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return False


def _same_ip(text, value) -> bool:
    """The column holds the address as the database normalised it (IPv6 compressed and
    lower-cased, an empty address as NULL); the record, as the request gave it."""
    if text is not None and value is not None and text == str(value):
        return True
    return _ip_key(text) == _ip_key(value)


def _ip_key(address) -> str | None:
    if address is None or address == "":
        return None
    try:
        return str(ipaddress.ip_address(str(address).split("%", 1)[0]))
    except ValueError:
        return str(address)


def _same_uuid(text, value) -> bool:
    if text is None or value is None:
        return text is None and value is None
    if text == value:  # the column read as text equals the record's: the usual case, no parsing
        return True
    return uuid.UUID(text) == (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def _find_unchained(walk: _Walk) -> None:
    """Events below the chain's head that are not in it (the sequencer never goes back)."""
    _seq, _hash, head_event = chain_head()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.id FROM audit_event e WHERE e.id < %s "
            "AND NOT EXISTS (SELECT 1 FROM audit_link l WHERE l.event_id = e.id) ORDER BY e.id LIMIT %s",
            [head_event, MAX_FINDINGS],
        )
        for (event_id,) in cursor.fetchall():
            walk.add("unchained_event", None, event_id)
