"""The chain's status page and the "Verify now" button: results recorded and shown, breaks named."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from audit import forms
from audit.actions import AuditAction, Outcome
from audit.chain import chain_pending_events
from audit.checkpoints import sign_checkpoint
from audit.events import record_event
from audit.models import AuditEvent, AuditLink, AuditVerification, VerificationStatus
from tests.conftest import signed_in

CHAIN_URL = reverse("audit:chain")
VERIFY_URL = reverse("audit:verify")


def chain_all() -> None:
    chain_pending_events(now=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1))


@pytest.fixture
def trail(alice, matter):
    """Ten chained events."""
    events = [record_event(AuditAction.MATTER_VIEW, actor=alice, target=matter) for _ in range(10)]
    chain_all()
    return events


def press_verify(client, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(VERIFY_URL, data)
    return response


def tamper(event: AuditEvent) -> None:
    """What an intruder with database access does: rewrite a row behind the application's back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The append-only triggers refuse the UPDATE; a database superuser can switch them off.
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE audit_event SET outcome = 'success', payload = %s WHERE id = %s", [
            bytes(event.payload).replace(b'"outcome":"denied"', b'"outcome":"success"'), event.pk,
        ])  # fmt: skip
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


def test_the_status_page_shows_the_head_the_backlog_and_the_last_checkpoint(client, dana, trail, alice, matter):
    record_event(AuditAction.MATTER_VIEW, actor=alice, target=matter)
    record_event(AuditAction.MATTER_VIEW, actor=alice, target=matter)
    chained = AuditLink.objects.count()
    signed_in(client, dana)
    page = client.get(CHAIN_URL).content.decode()
    assert 'id="pending-count">2<' in page
    assert f'id="head-seq">{chained}<' in page
    assert reverse("audit:event_detail", args=[trail[-1].pk]) in page
    assert "No checkpoint has been signed yet." in page
    assert "The audit trail has not been verified yet." in page

    sign_checkpoint()
    page = client.get(CHAIN_URL).content.decode()
    assert 'id="pending-count">0<' in page
    assert f'id="head-seq">{chained + 2}<' in page
    assert f"<dd>{chained + 2}</dd>" in page, "the checkpoint's position"
    assert reverse("audit:checkpoints_file") in page


def test_verify_now_records_and_shows_a_passing_result(client, dana, trail, django_capture_on_commit_callbacks):
    signed_in(client, dana)
    response = press_verify(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == CHAIN_URL
    run = AuditVerification.objects.get()
    assert run.status == VerificationStatus.PASSED
    assert run.requested_by == dana
    assert run.records_checked == AuditLink.objects.count() >= 10
    page = client.get(CHAIN_URL).content.decode()
    assert "Verification requested" in page
    assert "Passed" in page
    detail = client.get(reverse("audit:verification_detail", args=[run.pk])).content.decode()
    assert "The audit trail is intact" in detail
    pressed = AuditEvent.objects.get(action=AuditAction.AUDIT_VERIFY)
    assert pressed.record["actor"] == "dana"
    assert pressed.record["detail"] == {"checkpoint_file": False, "file_lines": 0}


def test_verify_now_names_the_first_broken_record(
    client, dana, trail, charlie, matter, alice, django_capture_on_commit_callbacks
):
    denied = record_event(AuditAction.MATTER_VIEW, actor=charlie, target=matter, outcome=Outcome.DENIED)
    record_event(AuditAction.MATTER_VIEW, actor=alice, target=matter)
    chain_all()
    tamper(denied)
    signed_in(client, dana)
    press_verify(client, django_capture_on_commit_callbacks)
    run = AuditVerification.objects.get()
    assert run.status == VerificationStatus.FAILED
    position = AuditLink.objects.get(event=denied).seq
    assert run.first_broken_seq == position
    assert run.first_broken_event == denied.pk
    page = client.get(CHAIN_URL).content.decode()
    assert "Failed" in page
    assert f"position {position}" in page
    detail = client.get(reverse("audit:verification_detail", args=[run.pk])).content.decode()
    assert f'id="first-broken">{position}<' in detail
    assert reverse("audit:event_detail", args=[denied.pk]) in detail
    assert "it was altered" in detail


def test_a_downloaded_checkpoint_file_verifies_when_uploaded_back(
    client, dana, trail, django_capture_on_commit_callbacks
):
    sign_checkpoint()
    signed_in(client, dana)
    response = client.get(reverse("audit:checkpoints_file"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="custos-checkpoints-')
    assert "no-store" in response["Cache-Control"]
    content = b"".join(response.streaming_content)
    assert content.count(b"\n") == 1
    exported = AuditEvent.objects.get(action=AuditAction.AUDIT_CHECKPOINT_EXPORT)
    assert exported.record["detail"] == {"up_to": AuditLink.objects.count()}

    upload = SimpleUploadedFile("checkpoints.jsonl", content, content_type="application/x-ndjson")
    press_verify(client, django_capture_on_commit_callbacks, checkpoint_file=upload)
    run = AuditVerification.objects.get()
    assert run.status == VerificationStatus.PASSED
    assert run.checkpoints_checked == 2, "the stored checkpoint and the one from the file"
    assert run.checkpoint_file == "checkpoints.jsonl"
    pressed = AuditEvent.objects.get(action=AuditAction.AUDIT_VERIFY)
    assert pressed.record["detail"] == {"checkpoint_file": True, "file_lines": 1}


def test_an_uploaded_checkpoint_the_database_lost_is_a_failure(client, dana, trail, django_capture_on_commit_callbacks):
    sign_checkpoint()
    signed_in(client, dana)
    content = b"".join(client.get(reverse("audit:checkpoints_file")).streaming_content)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM audit_checkpoint")
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")
    press_verify(client, django_capture_on_commit_callbacks, checkpoint_file=SimpleUploadedFile("c.jsonl", content))
    run = AuditVerification.objects.get()
    assert run.status == VerificationStatus.FAILED
    assert run.first_problem == "checkpoint_missing"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format": "something-else"}\n', "Line 1 is not an exported Custos checkpoint."),
        (b"\n\n", "The file holds no checkpoints."),
        (b"x" * 64, "The file is larger than 5 MB."),
    ],
    ids=["not-a-checkpoint", "empty", "too-large"],
)
def test_a_file_that_is_not_a_checkpoint_file_is_refused_on_the_form(
    client, dana, trail, content, message, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(forms, "CHECKPOINT_FILE_LIMIT", 32)
    signed_in(client, dana)
    response = press_verify(
        client, django_capture_on_commit_callbacks, checkpoint_file=SimpleUploadedFile("f.jsonl", content)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AuditVerification.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.AUDIT_VERIFY).exists()


def test_the_verify_button_takes_only_a_post(client, dana):
    assert signed_in(client, dana).get(VERIFY_URL).status_code == 405


def test_a_verification_still_running_says_so(client, dana):
    run = AuditVerification.objects.create()
    page = signed_in(client, dana).get(reverse("audit:verification_detail", args=[run.pk])).content.decode()
    assert "still running" in page
    assert signed_in(client, dana).get(reverse("audit:verification_detail", args=[run.pk + 1])).status_code == 404
