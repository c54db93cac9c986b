"""Verification of the audit trail: the chain, the events' fields, and the signed checkpoints.

Walks the chain in order, streaming, and checks each link locally — its hash
must follow from the previous link's stored hash and its event's stored bytes —
so every broken record is named, not only the first. Then checks that each
event's filter columns still say what its bytes say, that no event sits below
the chain's head outside it, and that every checkpoint (stored, and optionally
from an exported file) is signed by a trusted key and matches the chain.
"""

from __future__ import annotations

import datetime
import json
import uuid
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
    ),  # noqa: E501
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
    ),  # noqa: E501
    "checkpoint_missing": _("A checkpoint in the exported file is missing from the database."),
}
MAX_FINDINGS = 200
CHUNK = 5000


@dataclass
class _Walk:
    findings: list[dict] = field(default_factory=list)
    records: int = 0
    hashes_at: dict[int, bytes] = field(default_factory=dict)
    head_seq: int = 0
    count: int = 0

    def add(self, code: str, seq: int | None = None, event: int | None = None) -> int:
        """Note a finding; returns its index (-1 once past the limit, when it is only counted)."""
        self.count += 1
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append({"code": code, "seq": seq, "event": event})
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
            walk.add("checkpoint_missing", item["seq"])
    return walk, checked


def _check_checkpoint(walk: _Walk, seq, head_hash, signed_at, key_name, signature) -> None:
    if not signing.verify_signature(key_name, signature, checkpoint_message(seq, head_hash, signed_at)):
        walk.add("bad_signature", seq)
    elif seq > walk.head_seq:
        walk.add("checkpoint_beyond_head", seq)
    elif walk.hashes_at.get(seq) != head_hash:
        walk.add("checkpoint_mismatch", seq)


_COLUMNS = ("occurred_at", "action", "outcome", "actor_id", "session_ref", "ip_address", "client_id", "matter_id",
            "document_id")  # fmt: skip


def _walk_chain(walk: _Walk, wanted: set[int]) -> None:
    sql = (
        "SELECT l.seq, l.hash, l.event_id, e.id, e.payload, "
        + ", ".join(f"e.{name}" for name in _COLUMNS)
        + " FROM audit_link l LEFT JOIN audit_event e ON e.id = l.event_id ORDER BY l.seq"
    )
    expected_seq = 1
    previous = GENESIS  # the stored hash of the previous link
    before_previous = GENESIS
    previous_failed: int | None = None  # the index of the previous record's finding, when it failed
    previous_ref = None
    previous_event = 0
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(CHUNK):
            for seq, stored_hash, event_ref, event_id, payload, *columns in rows:
                stored_hash = bytes(stored_hash)
                walk.records += 1
                after_gap = seq != expected_seq
                if after_gap:
                    walk.add("missing_link", expected_seq)
                    previous_failed = None
                expected_seq = seq + 1
                if seq in wanted:
                    walk.hashes_at[seq] = stored_hash
                failed = None
                if event_id is None:
                    failed = walk.add("missing_event", seq, event_ref)
                else:
                    payload = bytes(payload)
                    # Right after a removed link, the break is that removal's, already named.
                    if not after_gap and link_hash(previous, payload) != stored_hash:
                        if seq > 1 and link_hash(before_previous, payload) == stored_hash:
                            # This record still follows the one two back: the one between was slipped in.
                            if previous_failed is not None:
                                if previous_failed >= 0:
                                    walk.findings[previous_failed]["code"] = "inserted_record"
                            else:
                                walk.add("inserted_record", seq - 1, previous_ref)
                        else:
                            failed = walk.add("altered_record", seq, event_id)
                    if event_id <= previous_event:
                        walk.add("out_of_order", seq, event_id)
                    if not _fields_agree(payload, columns):
                        walk.add("fields_disagree", seq, event_id)
                    previous_event = event_id
                before_previous, previous, previous_failed, previous_ref = previous, stored_hash, failed, event_ref
            walk.head_seq = expected_seq - 1
    finally:
        cursor.close()


def _fields_agree(payload: bytes, columns) -> bool:
    try:
        record = json.loads(payload)
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
            and record["ip"] == (str(ip) if ip is not None else None)
            and _same_uuid(record["client_id"], client_id)
            and _same_uuid(record["matter_id"], matter_id)
            and _same_uuid(record["document_id"], document_id)
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return False


def _same_uuid(text, value) -> bool:
    if text is None or value is None:
        return text is None and value is None
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
