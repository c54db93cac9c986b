"""``manage.py verify_audit``: what the operator runs, sees and gets as an exit status."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from audit.checkpoints import sign_checkpoint
from audit.models import AuditVerification, VerificationStatus
from tests.audit.test_chain import next_event_id, record, record_with_ids, tampering

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_gap_grace(settings):
    settings.AUDIT_GAP_GRACE_SECONDS = 0


@pytest.fixture
def trail():
    events = record(5)
    sign_checkpoint()
    return events


@pytest.fixture
def checkpoint_file(trail, tmp_path):
    path = tmp_path / "checkpoints.jsonl"
    call_command("export_audit_checkpoints", output=str(path), stderr=io.StringIO())
    return path


def verify(**options) -> tuple[int, str]:
    """Run the command: (exit status, what it printed)."""
    out = io.StringIO()
    try:
        call_command("verify_audit", stdout=out, **options)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


def test_an_intact_trail_passes_and_the_run_is_recorded(trail):
    status, output = verify()
    assert status == 0
    assert "5 records and 1 checkpoints checked" in output
    assert "The audit trail is intact." in output
    run = AuditVerification.objects.get()
    assert (run.status, run.records_checked, run.checkpoints_checked, run.checkpoint_file) == (
        VerificationStatus.PASSED, 5, 1, "",
    )  # fmt: skip
    assert run.finished_at >= run.started_at and run.requested_by is None


def test_an_exported_file_is_checked_too(checkpoint_file):
    status, output = verify(checkpoints=str(checkpoint_file))
    assert status == 0, output
    run = AuditVerification.objects.get()
    assert (run.status, run.checkpoints_checked, run.checkpoint_file) == (
        VerificationStatus.PASSED, 2, str(checkpoint_file),
    )  # fmt: skip


def test_a_broken_trail_exits_1_and_names_the_first_broken_position(trail):
    with tampering() as cursor:
        cursor.execute("UPDATE audit_event SET payload = %s WHERE id = %s", [b'{"v":1}', trail[2].id])
        cursor.execute("UPDATE audit_event SET outcome = 'denied' WHERE id = %s", [trail[3].id])
    status, output = verify()
    assert status == 1
    lines = output.splitlines()
    assert lines[1] == "3 problem(s) found. First broken record:"
    assert lines[2].startswith(f"  position 3, event {trail[2].id}: The record does not follow from the one before it")
    assert lines[3].startswith(f"  position 3, event {trail[2].id}: The event's searchable fields no longer match")
    assert lines[4].startswith(f"  position 4, event {trail[3].id}: The event's searchable fields")
    run = AuditVerification.objects.get()
    assert (run.status, run.problem_count, run.first_problem, run.first_broken_seq, run.first_broken_event) == (
        VerificationStatus.FAILED, 3, "altered_record", 3, trail[2].id,
    )  # fmt: skip


def test_an_event_outside_the_chain_is_named_by_its_id():
    base = next_event_id()
    record_with_ids([base, base + 2])
    sign_checkpoint()
    record_with_ids([base + 1])
    status, output = verify()
    assert status == 1
    assert f"  outside the chain, event {base + 1}: An event sits below the chain's head" in output


def test_a_checkpoint_missing_from_the_database_is_named_from_the_file(checkpoint_file):
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_checkpoint")
    assert verify()[0] == 0
    status, output = verify(checkpoints=str(checkpoint_file))
    assert status == 1
    assert "  position 5: A checkpoint in the exported file is missing from the database." in output


def test_every_run_is_recorded(checkpoint_file, trail):
    verify()
    verify(checkpoints=str(checkpoint_file))
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_event WHERE id = %s", [trail[0].id])
    verify()
    runs = AuditVerification.objects.order_by("id")
    assert [(run.status, run.checkpoint_file, run.first_broken_seq) for run in runs] == [
        (VerificationStatus.PASSED, "", None),
        (VerificationStatus.PASSED, str(checkpoint_file), None),
        (VerificationStatus.FAILED, "", 1),
    ]


def test_a_malformed_file_is_refused_by_line_before_anything_is_verified(checkpoint_file):
    good = checkpoint_file.read_text(encoding="utf-8")
    checkpoint_file.write_text(good + "\n" + '{"format": "custos-audit-checkpoint-v1", "seq": "x"}\n', encoding="utf-8")
    with pytest.raises(CommandError, match=r"checkpoints\.jsonl: line 3 is not an exported Custos checkpoint"):
        verify(checkpoints=str(checkpoint_file))
    assert not AuditVerification.objects.exists()


def test_a_missing_file_is_refused(tmp_path, trail):
    with pytest.raises(CommandError, match=r"Cannot read .*nowhere\.jsonl"):
        verify(checkpoints=str(tmp_path / "nowhere.jsonl"))
    assert not AuditVerification.objects.exists()


def test_a_verification_that_cannot_finish_is_recorded_as_such(trail, monkeypatch):
    from audit import verification

    def broken(*args):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(verification, "_walk_chain", broken)
    with pytest.raises(RuntimeError):
        verify()
    run = AuditVerification.objects.get()
    assert (run.status, run.findings) == (VerificationStatus.ERROR, [{"code": "error", "detail": "RuntimeError"}])
    assert run.finished_at is not None
