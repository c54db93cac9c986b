"""Tampering with the trail: the database refuses it, and verification names the record.

On PostgreSQL the append-only triggers refuse UPDATE, DELETE and TRUNCATE.
A database superuser can switch them off (``session_replication_role =
replica``); everything such a person can do to the rows is then caught by
``verify_audit_trail`` at the exact record. The tampering tests run on SQLite
too, where nothing stops the raw SQL in the first place.
"""

from __future__ import annotations

import datetime
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from audit.actions import AuditAction
from audit.chain import GENESIS, chain_pending_events, link_hash
from audit.checkpoints import checkpoint_message, export_lines, parse_file_lines, sign_checkpoint
from audit.events import record_event
from audit.models import AuditCheckpoint, AuditEvent, AuditLink, VerificationStatus
from audit.signing import key_id
from audit.verification import FINDINGS, describe, verify_audit_trail
from tests.audit.test_chain import chained, next_event_id, record, record_with_ids, tampering

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_gap_grace(settings):
    settings.AUDIT_GAP_GRACE_SECONDS = 0


@pytest.fixture
def trail() -> list[AuditEvent]:
    """Six chained events; ``trail[k - 1]`` sits at position k."""
    events = record(6)
    assert chain_pending_events().chained == 6
    return events


def found(run) -> list[tuple]:
    return [(f["code"], f["seq"], f["event"]) for f in run.findings]


def first(run) -> tuple:
    return run.first_problem, run.first_broken_seq, run.first_broken_event


def payload_of(event_id: int) -> bytes:
    return bytes(AuditEvent.objects.values_list("payload", flat=True).get(id=event_id))


def edited(payload: bytes, **changes) -> bytes:
    """The record with ``changes``, re-serialised canonically (a careful forger)."""
    record = {**json.loads(payload), **changes}
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def renumber_links(cursor, from_seq: int, by: int) -> None:
    """Move every link at ``from_seq`` and after by ``by`` positions (through negatives:
    the primary key is checked row by row)."""
    cursor.execute("UPDATE audit_link SET seq = -(seq + %s) WHERE seq >= %s", [by, from_seq])
    cursor.execute("UPDATE audit_link SET seq = -seq WHERE seq < 0")


def recompute_links(cursor, from_seq: int = 1) -> None:
    """What a superuser who knows the scheme does: every hash from ``from_seq`` on, made right again."""
    previous = GENESIS
    for seq, event_id, stored in chained():
        if seq >= from_seq:
            stored = link_hash(previous, payload_of(event_id))
            cursor.execute("UPDATE audit_link SET hash = %s WHERE seq = %s", [stored, seq])
        previous = stored


def exported(tmp_path) -> list[dict]:
    path = tmp_path / "checkpoints.jsonl"
    path.write_text("".join(export_lines()), encoding="utf-8")
    with path.open("rb") as handle:
        return parse_file_lines(handle)


# --- The database refuses -------------------------------------------------------------


@pytest.mark.postgres
class TestTriggers:
    TABLES = ("audit_event", "audit_link", "audit_checkpoint")

    @pytest.fixture(autouse=True)
    def _rows(self, trail):
        sign_checkpoint()

    @pytest.mark.parametrize("table", TABLES)
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE {table} SET {column} = {column}",
            "DELETE FROM {table}",
            "DELETE FROM {table} WHERE {column} = (SELECT MAX({column}) FROM {table})",
            "TRUNCATE {table}",
            "TRUNCATE {table} CASCADE",
        ],
    )
    def test_changing_or_removing_audit_rows_is_refused(self, table, statement):
        column = "seq" if table == "audit_link" else "id"
        before = self._counts()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.format(table=table, column=column))
        assert self._counts() == before

    def test_the_orm_is_refused_too(self, trail):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(id=trail[0].id).update(outcome="denied")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditLink.objects.filter(seq=1).delete()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditCheckpoint.objects.all().delete()
        event = AuditEvent.objects.get(id=trail[1].id)
        event.outcome = "denied"
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            event.save()
        assert verify_audit_trail().status == VerificationStatus.PASSED

    def test_an_owner_who_disables_the_triggers_is_still_caught(self, trail):
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
            cursor.execute("UPDATE audit_event SET outcome = 'denied' WHERE id = %s", [trail[1].id])
            cursor.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")
        assert found(verify_audit_trail()) == [("fields_disagree", 2, trail[1].id)]

    def test_inserting_is_allowed(self):
        record(1)
        assert chain_pending_events().chained == 1
        assert sign_checkpoint()["signed"] == 1

    def _counts(self) -> list[int]:
        with connection.cursor() as cursor:
            counts = []
            for table in self.TABLES:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 — our own table names
                counts.append(cursor.fetchone()[0])
        return counts


# --- Verification names the record ----------------------------------------------------


def test_an_untouched_trail_passes(trail):
    run = verify_audit_trail()
    assert (run.status, run.records_checked, run.problem_count, run.findings) == (VerificationStatus.PASSED, 6, 0, [])
    assert first(run) == ("", None, None)


@pytest.mark.parametrize(
    "address", ["10.0.0.1", "2001:db8::1", "2001:DB8:0:0::1", "::ffff:10.0.0.1", "fe80::1%eth0", ""]
)
def test_an_address_the_database_normalised_is_not_a_modification(address):
    """The IP column holds the address as stored (IPv6 compressed, empty as NULL),
    the record as the request gave it: the same address either way."""
    record_event(AuditAction.MATTER_VIEW, request=RequestFactory().get("/", REMOTE_ADDR=address))
    chain_pending_events()
    assert verify_audit_trail().findings == []


class TestFieldModified:
    @pytest.mark.parametrize(
        ("column", "value"),
        [
            ("outcome", "denied"),
            ("action", "document.download"),
            ("matter_id", "00000000-0000-0000-0000-000000000001"),
            ("client_id", None),
            ("actor_id", 42),
            ("ip_address", "10.0.0.9"),
            ("session_ref", "0123456789abcdef"),
        ],
    )
    def test_a_modified_searchable_column_is_named(self, trail, column, value):
        with tampering() as cursor:
            cursor.execute(f"UPDATE audit_event SET {column} = %s WHERE id = %s", [value, trail[2].id])  # noqa: S608
        run = verify_audit_trail()
        assert found(run) == [("fields_disagree", 3, trail[2].id)]
        assert first(run) == ("fields_disagree", 3, trail[2].id)

    def test_a_modified_time_is_named(self, trail):
        event = AuditEvent.objects.get(id=trail[4].id)
        with tampering() as cursor:
            cursor.execute(
                "UPDATE audit_event SET occurred_at = %s WHERE id = %s",
                [event.occurred_at - datetime.timedelta(hours=1), event.id],
            )
        assert found(verify_audit_trail()) == [("fields_disagree", 5, trail[4].id)]

    def test_modified_bytes_are_named(self, trail):
        forged = edited(payload_of(trail[2].id), reason="nothing to see")
        with tampering() as cursor:
            cursor.execute("UPDATE audit_event SET payload = %s WHERE id = %s", [forged, trail[2].id])
        run = verify_audit_trail()
        assert found(run) == [("altered_record", 3, trail[2].id)]
        assert run.status == VerificationStatus.FAILED

    def test_bytes_and_columns_modified_together_are_named(self, trail):
        forged = edited(payload_of(trail[0].id), outcome="denied")
        with tampering() as cursor:
            cursor.execute(
                "UPDATE audit_event SET payload = %s, outcome = 'denied' WHERE id = %s", [forged, trail[0].id]
            )
        assert found(verify_audit_trail()) == [("altered_record", 1, trail[0].id)]

    def test_unreadable_bytes_are_named(self, trail):
        with tampering() as cursor:
            cursor.execute("UPDATE audit_event SET payload = %s WHERE id = %s", [b"\xff\x00", trail[5].id])
        assert found(verify_audit_trail()) == [("altered_record", 6, trail[5].id), ("fields_disagree", 6, trail[5].id)]


class TestDeleted:
    def test_a_deleted_event_is_named(self, trail):
        with tampering() as cursor:
            cursor.execute("DELETE FROM audit_event WHERE id = %s", [trail[3].id])
        run = verify_audit_trail()
        assert found(run) == [("missing_event", 4, trail[3].id)]
        assert first(run) == ("missing_event", 4, trail[3].id)

    def test_a_deleted_event_and_its_link_are_named_by_position(self, trail):
        with tampering() as cursor:
            cursor.execute("DELETE FROM audit_link WHERE seq = 4")
            cursor.execute("DELETE FROM audit_event WHERE id = %s", [trail[3].id])
        run = verify_audit_trail()
        # The event is gone with its link: only its position is left to name.
        assert found(run) == [("missing_link", 4, None)]
        assert first(run) == ("missing_link", 4, None)

    def test_the_first_position_removed_is_named_too(self, trail):
        with tampering() as cursor:
            cursor.execute("DELETE FROM audit_link WHERE seq IN (1, 2)")
            cursor.execute("DELETE FROM audit_event WHERE id IN (%s, %s)", [trail[0].id, trail[1].id])
        assert found(verify_audit_trail()) == [("missing_link", 1, None)]

    def test_a_removed_link_leaves_its_event_outside_the_chain(self, trail):
        with tampering() as cursor:
            cursor.execute("DELETE FROM audit_link WHERE seq = 2")
        assert found(verify_audit_trail()) == [("missing_link", 2, None), ("unchained_event", None, trail[1].id)]

    def test_a_removal_hidden_by_renumbering_is_named_where_it_was(self, trail):
        with tampering() as cursor:
            cursor.execute("DELETE FROM audit_link WHERE seq = 3")
            cursor.execute("DELETE FROM audit_event WHERE id = %s", [trail[2].id])
            renumber_links(cursor, 4, -1)
        run = verify_audit_trail()
        # Position 3 now holds the fourth event, which does not follow from the second.
        assert found(run) == [("altered_record", 3, trail[3].id)]
        assert "a record before it was removed" in describe(run.findings[0])


class TestInserted:
    @pytest.fixture
    def gapped(self):
        """Six chained events with an unused id between the second and the third."""
        base = next_event_id()
        ids = [base, base + 1, base + 3, base + 4, base + 5, base + 6]
        events = record_with_ids(ids)
        chain_pending_events()
        assert [event_id for _s, event_id, _h in chained()] == ids
        return events, base + 2

    def test_an_event_inserted_below_the_head_is_named(self, gapped):
        _events, free_id = gapped
        record_with_ids([free_id])
        run = verify_audit_trail()
        assert found(run) == [("unchained_event", None, free_id)]
        assert first(run) == ("unchained_event", None, free_id)

    def test_an_event_after_the_head_is_only_waiting_to_be_chained(self, trail):
        record(1)
        assert verify_audit_trail().status == VerificationStatus.PASSED

    def _slip_in(self, cursor, at: int, event_id: int, right_hash: bool = True) -> None:
        renumber_links(cursor, at, +1)
        previous = dict((seq, h) for seq, _e, h in chained()).get(at - 1, GENESIS)
        forged = link_hash(previous, payload_of(event_id)) if right_hash else bytes(32)
        cursor.execute(
            "INSERT INTO audit_link (seq, event_id, hash, chained_at) VALUES (%s, %s, %s, CURRENT_TIMESTAMP)",
            [at, event_id, forged],
        )

    def test_an_event_slipped_into_the_chain_is_named(self, gapped):
        _events, free_id = gapped
        record_with_ids([free_id])
        with tampering() as cursor:
            self._slip_in(cursor, 3, free_id)
        run = verify_audit_trail()
        assert found(run) == [("inserted_record", 3, free_id)]
        assert first(run) == ("inserted_record", 3, free_id)
        assert run.records_checked == 7

    def test_an_event_slipped_in_with_a_wrong_hash_is_named(self, gapped):
        _events, free_id = gapped
        record_with_ids([free_id])
        with tampering() as cursor:
            self._slip_in(cursor, 3, free_id, right_hash=False)
        assert found(verify_audit_trail()) == [("inserted_record", 3, free_id)]

    def test_an_event_below_the_head_linked_at_the_end_is_named(self, gapped):
        _events, free_id = gapped
        record_with_ids([free_id])
        with tampering() as cursor:
            head = chained()[-1][2]
            cursor.execute(
                "INSERT INTO audit_link (seq, event_id, hash, chained_at) VALUES (7, %s, %s, CURRENT_TIMESTAMP)",
                [free_id, link_hash(head, payload_of(free_id))],
            )
        run = verify_audit_trail()
        assert found(run) == [("out_of_order", 7, free_id)]

    def test_an_event_slipped_in_first_is_named(self, trail):
        forged = record(1)[0]
        with tampering() as cursor:
            self._slip_in(cursor, 1, forged.id)
        run = verify_audit_trail()
        assert first(run) == ("inserted_record", 1, forged.id)
        # Its id is the newest, so the event after it is out of id order as well.
        assert found(run) == [("inserted_record", 1, forged.id), ("out_of_order", 2, trail[0].id)]

    def test_two_events_slipped_in_are_both_named(self, trail):
        forged = record(2)
        with tampering() as cursor:
            self._slip_in(cursor, 3, forged[0].id)
            self._slip_in(cursor, 4, forged[1].id)
        run = verify_audit_trail()
        assert first(run) == ("inserted_record", 3, forged[0].id)
        assert found(run) == [
            ("inserted_record", 3, forged[0].id), ("inserted_record", 4, forged[1].id),
            ("out_of_order", 5, trail[2].id),
        ]  # fmt: skip


class TestSwapped:
    """Records that traded places are named as such, at the first of the two."""

    def test_two_events_swapped_are_named_at_the_first(self, trail):
        a, b = trail[1].id, trail[4].id
        with tampering() as cursor:
            self._swap_contents(cursor, a, b)
        run = verify_audit_trail()
        assert first(run) == ("out_of_order", 2, a)
        assert found(run) == [("out_of_order", 2, a), ("out_of_order", 5, b)]

    def test_two_neighbours_swapped_are_named_at_the_first(self, trail):
        a, b = trail[2].id, trail[3].id
        with tampering() as cursor:
            self._swap_contents(cursor, a, b)
        run = verify_audit_trail()
        assert found(run) == [("out_of_order", 3, a), ("out_of_order", 4, b)]

    def test_events_swapped_too_far_apart_to_pair_are_still_named_at_the_first(self, trail, monkeypatch):
        from audit import verification

        monkeypatch.setattr(verification, "WINDOW", 2)
        a, b = trail[0].id, trail[5].id
        with tampering() as cursor:
            self._swap_contents(cursor, a, b)
        run = verify_audit_trail()
        assert found(run) == [("altered_record", 1, a), ("altered_record", 6, b)]

    def test_two_links_swapped_are_named_at_the_first(self, trail):
        """The whole link rows traded places, hashes and all."""
        with tampering() as cursor:
            cursor.execute("UPDATE audit_link SET seq = -seq WHERE seq IN (2, 3)")
            cursor.execute("UPDATE audit_link SET seq = 3 WHERE seq = -2")
            cursor.execute("UPDATE audit_link SET seq = 2 WHERE seq = -3")
        run = verify_audit_trail()
        assert found(run) == [("out_of_order", 2, trail[2].id), ("out_of_order", 3, trail[1].id)]

    def test_two_events_relinked_in_swapped_places_are_named_at_the_first(self, trail):
        with tampering() as cursor:
            cursor.execute("UPDATE audit_link SET event_id = -event_id WHERE seq IN (4, 5)")
            cursor.execute("UPDATE audit_link SET event_id = %s WHERE seq = 4", [trail[4].id])
            cursor.execute("UPDATE audit_link SET event_id = %s WHERE seq = 5", [trail[3].id])
        run = verify_audit_trail()
        assert found(run) == [("out_of_order", 4, trail[4].id), ("out_of_order", 5, trail[3].id)]

    @staticmethod
    def _swap_contents(cursor, a: int, b: int) -> None:
        columns = "occurred_at, action, outcome, actor_id, session_ref, ip_address, client_id, matter_id, " \
            "document_id, payload"  # fmt: skip
        rows = {}
        for event_id in (a, b):
            cursor.execute(f"SELECT {columns} FROM audit_event WHERE id = %s", [event_id])  # noqa: S608
            rows[event_id] = cursor.fetchone()
        assignments = ", ".join(f"{name.strip()} = %s" for name in columns.split(","))
        for target, source in ((a, b), (b, a)):
            cursor.execute(f"UPDATE audit_event SET {assignments} WHERE id = %s", [*rows[source], target])  # noqa: S608


# --- Checkpoints ----------------------------------------------------------------------


@pytest.fixture
def signed(trail):
    """Checkpoints at positions 3 and 6 (the trail was chained whole, so 3 is signed by hand)."""
    sign_checkpoint()  # position 6
    from audit import signing

    key = signing.signing_key()
    head = dict((seq, h) for seq, _e, h in chained())[3]
    stamp = AuditCheckpoint.objects.get().signed_at
    AuditCheckpoint.objects.create(
        seq=3, head_hash=head, signed_at=stamp, key_id=key_id(key.public_key()),
        signature=key.sign(checkpoint_message(3, head, stamp)),
    )  # fmt: skip
    assert verify_audit_trail().status == VerificationStatus.PASSED
    return trail


class TestRewritten:
    """A superuser who recomputes the chain passes the chain check, not the checkpoints."""

    def _rewrite(self, trail, position: int) -> None:
        event_id = trail[position - 1].id
        with tampering() as cursor:
            forged = edited(payload_of(event_id), reason="rewritten")
            cursor.execute("UPDATE audit_event SET payload = %s WHERE id = %s", [forged, event_id])
            recompute_links(cursor, position)

    def test_the_stored_checkpoints_catch_a_recomputed_chain(self, signed):
        self._rewrite(signed, 5)
        run = verify_audit_trail()
        # The chain itself is consistent again; only the signed head at 6 disagrees (3 still matches).
        assert found(run) == [("checkpoint_mismatch", 6, None)]
        assert first(run) == ("checkpoint_mismatch", 6, None)

    def test_the_exported_checkpoints_catch_a_recomputed_chain(self, signed, tmp_path):
        file = exported(tmp_path)
        self._rewrite(signed, 2)
        run = verify_audit_trail(file_checkpoints=file, file_name="checkpoints.jsonl")
        assert [code for code, _s, _e in found(run)] == ["checkpoint_mismatch"] * 4
        assert first(run) == ("checkpoint_mismatch", 3, None)
        assert run.checkpoints_checked == 4

    def test_only_the_exported_file_catches_a_recomputed_chain_whose_checkpoints_were_removed(self, signed, tmp_path):
        file = exported(tmp_path)
        self._rewrite(signed, 5)
        with tampering() as cursor:
            cursor.execute("DELETE FROM audit_checkpoint")
        assert verify_audit_trail().status == VerificationStatus.PASSED  # why checkpoints are exported
        run = verify_audit_trail(file_checkpoints=file)
        assert found(run) == [("checkpoint_missing", 3, None), ("checkpoint_mismatch", 6, None),
                              ("checkpoint_missing", 6, None)]  # fmt: skip
        assert first(run)[:2] == ("checkpoint_missing", 3)

    def test_checkpoint_rows_removed_are_named_from_the_file(self, signed, tmp_path):
        file = exported(tmp_path)
        with tampering() as cursor:
            cursor.execute("DELETE FROM audit_checkpoint WHERE seq = 6")
        run = verify_audit_trail(file_checkpoints=file)
        assert found(run) == [("checkpoint_missing", 6, None)]


class TestTruncated:
    def test_records_removed_from_the_end_are_named_from_the_first_one_removed(self, signed):
        with tampering() as cursor:
            cursor.execute("DELETE FROM audit_link WHERE seq >= 5")
            cursor.execute("DELETE FROM audit_event WHERE id >= %s", [signed[4].id])
        run = verify_audit_trail()
        assert found(run) == [("checkpoint_beyond_head", 5, None)]
        assert run.findings[0]["checkpoint"] == 6
        assert run.records_checked == 4

    def test_records_removed_from_the_end_are_named_from_the_file(self, signed, tmp_path):
        file = exported(tmp_path)
        with tampering() as cursor:
            cursor.execute("DELETE FROM audit_link WHERE seq >= 2")
            cursor.execute("DELETE FROM audit_event WHERE id >= %s", [signed[1].id])
            cursor.execute("DELETE FROM audit_checkpoint")
        run = verify_audit_trail(file_checkpoints=file)
        assert first(run) == ("checkpoint_beyond_head", 2, None)
        assert {code for code, _s, _e in found(run)} == {"checkpoint_beyond_head", "checkpoint_missing"}

    def test_links_removed_from_the_end_are_chained_again_unchanged(self, signed):
        """Events whose links were removed are simply pending: the sequencer links them
        again to the very same hashes, so the checkpoints still match."""
        with tampering() as cursor:
            cursor.execute("DELETE FROM audit_link WHERE seq >= 5")
        assert chain_pending_events().chained == 2
        assert verify_audit_trail().status == VerificationStatus.PASSED


class TestSignatures:
    def test_a_checkpoint_resigned_with_a_foreign_key_is_named(self, signed):
        foreign = Ed25519PrivateKey.generate()
        checkpoint = AuditCheckpoint.objects.get(seq=6)
        message = checkpoint_message(6, bytes(checkpoint.head_hash), checkpoint.signed_at)
        with tampering() as cursor:
            cursor.execute(
                "UPDATE audit_checkpoint SET key_id = %s, signature = %s WHERE seq = 6",
                [key_id(foreign.public_key()), foreign.sign(message)],
            )
        run = verify_audit_trail()
        assert found(run) == [("bad_signature", 6, None)]

    def test_a_foreign_signature_under_the_trusted_key_name_is_named(self, signed):
        foreign = Ed25519PrivateKey.generate()
        checkpoint = AuditCheckpoint.objects.get(seq=3)
        message = checkpoint_message(3, bytes(checkpoint.head_hash), checkpoint.signed_at)
        with tampering() as cursor:
            cursor.execute("UPDATE audit_checkpoint SET signature = %s WHERE seq = 3", [foreign.sign(message)])
        assert found(verify_audit_trail()) == [("bad_signature", 3, None)]

    def test_a_checkpoint_moved_to_another_head_is_named(self, signed):
        with tampering() as cursor:
            cursor.execute("UPDATE audit_checkpoint SET head_hash = %s WHERE seq = 6", [bytes(32)])
        assert found(verify_audit_trail()) == [("bad_signature", 6, None)]

    def test_a_rewritten_chain_with_forged_checkpoints_fails_on_the_signatures(self, signed, tmp_path):
        foreign = Ed25519PrivateKey.generate()
        file = exported(tmp_path)
        with tampering() as cursor:
            forged = edited(payload_of(signed[0].id), reason="rewritten")
            cursor.execute("UPDATE audit_event SET payload = %s WHERE id = %s", [forged, signed[0].id])
            recompute_links(cursor)
            heads = dict((seq, h) for seq, _e, h in chained())
            for checkpoint in AuditCheckpoint.objects.all():
                message = checkpoint_message(checkpoint.seq, heads[checkpoint.seq], checkpoint.signed_at)
                cursor.execute(
                    "UPDATE audit_checkpoint SET head_hash = %s, key_id = %s, signature = %s WHERE seq = %s",
                    [heads[checkpoint.seq], key_id(foreign.public_key()), foreign.sign(message), checkpoint.seq],
                )
        run = verify_audit_trail(file_checkpoints=file)
        assert found(run) == [
            ("bad_signature", 3, None), ("checkpoint_mismatch", 3, None), ("checkpoint_missing", 3, None),
            ("bad_signature", 6, None), ("checkpoint_mismatch", 6, None), ("checkpoint_missing", 6, None),
        ]  # fmt: skip


def test_every_finding_code_is_described():
    assert set(FINDINGS) == {
        "altered_record", "inserted_record", "missing_link", "missing_event", "fields_disagree", "out_of_order",
        "unchained_event", "bad_signature", "checkpoint_mismatch", "checkpoint_beyond_head", "checkpoint_missing",
    }  # fmt: skip
    for code in FINDINGS:
        assert describe({"code": code}) == str(FINDINGS[code])


def test_many_problems_are_counted_past_the_ones_kept(trail, monkeypatch):
    from audit import verification

    monkeypatch.setattr(verification, "MAX_FINDINGS", 2)
    with tampering() as cursor:
        cursor.execute("UPDATE audit_event SET outcome = 'denied'")
    run = verify_audit_trail()
    assert (run.problem_count, len(run.findings)) == (6, 2)
    assert first(run) == ("fields_disagree", 1, trail[0].id)
