"""Signed checkpoints of the chain head: the periodic job, the signature, the export."""

from __future__ import annotations

import base64
import datetime
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.management import call_command

from audit import signing
from audit.chain import chain_head
from audit.checkpoints import (
    FORMAT,
    CheckpointFileError,
    checkpoint_message,
    export_lines,
    parse_file_lines,
    sign_checkpoint,
)
from audit.models import AuditCheckpoint, AuditLink, VerificationStatus
from audit.verification import verify_audit_trail
from jobs.models import JobOutcome, JobRun
from jobs.services import run_job
from tests.audit.test_chain import record

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(autouse=True)
def _no_gap_grace(settings):
    settings.AUDIT_GAP_GRACE_SECONDS = 0


def public_key(settings) -> Ed25519PublicKey:
    """The public half of AUDIT_SIGNING_KEY, worked out here without audit.signing."""
    raw = base64.b64decode(settings.AUDIT_SIGNING_KEY)
    return Ed25519PrivateKey.from_private_bytes(raw).public_key()


class TestTheJob:
    def test_it_chains_what_is_pending_and_signs_the_head(self, settings):
        record(3)
        assert sign_checkpoint() == {"signed": 1, "seq": 3}
        checkpoint = AuditCheckpoint.objects.get()
        seq, head_hash, _event = chain_head()
        assert (checkpoint.seq, bytes(checkpoint.head_hash)) == (seq, head_hash) == (3, head_hash)
        assert AuditLink.objects.count() == 3

    def test_it_signs_only_when_the_head_moved(self):
        record(2)
        assert sign_checkpoint()["signed"] == 1
        assert sign_checkpoint() == {"signed": 0, "seq": 2}
        assert sign_checkpoint() == {"signed": 0, "seq": 2}
        record(1)
        assert sign_checkpoint() == {"signed": 1, "seq": 3}
        assert list(AuditCheckpoint.objects.order_by("seq").values_list("seq", flat=True)) == [2, 3]

    def test_an_empty_chain_is_not_signed(self):
        assert sign_checkpoint() == {"signed": 0, "seq": 0}
        assert not AuditCheckpoint.objects.exists()

    def test_the_signature_verifies_with_the_public_key_of_the_configured_key(self, settings):
        record(4)
        signed_at = datetime.datetime(
            2026, 3, 1, 9, 30, 15, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
        )
        sign_checkpoint(now=signed_at)
        checkpoint = AuditCheckpoint.objects.get()
        assert checkpoint.signed_at == signed_at
        head = bytes(checkpoint.head_hash)
        message = f"{FORMAT}\n4\n{head.hex()}\n2026-03-01T01:30:15.123456+00:00\n".encode()
        assert checkpoint_message(4, head, checkpoint.signed_at) == message
        public_key(settings).verify(bytes(checkpoint.signature), message)
        assert checkpoint.key_id == signing.key_id(public_key(settings))
        with pytest.raises(InvalidSignature):
            public_key(settings).verify(bytes(checkpoint.signature), message.replace(b"\n4\n", b"\n5\n"))

    def test_it_runs_as_a_periodic_job_that_records_its_runs(self, settings):
        record(2)
        assert run_job("audit.sign_checkpoint").counts == {"signed": 1, "seq": 2}
        run_job("audit.sign_checkpoint")
        runs = JobRun.objects.filter(job="audit.sign_checkpoint").order_by("id")
        assert [(run.outcome, run.counts) for run in runs] == [
            (JobOutcome.SUCCEEDED, {"signed": 1, "seq": 2}), (JobOutcome.SUCCEEDED, {"signed": 0, "seq": 2}),
        ]  # fmt: skip
        schedule = settings.CELERY_BEAT_SCHEDULE["sign-audit-checkpoint"]
        assert schedule["args"] == ("audit.sign_checkpoint",)
        assert schedule["schedule"] == datetime.timedelta(minutes=settings.AUDIT_CHECKPOINT_MINUTES)

    def test_without_a_key_the_job_fails_and_says_so(self, settings):
        record(1)
        settings.AUDIT_SIGNING_KEY = ""
        with pytest.raises(signing.SigningKeyMissing):
            run_job("audit.sign_checkpoint")
        run = JobRun.objects.get(job="audit.sign_checkpoint")
        assert (run.outcome, run.error) == (JobOutcome.FAILED, "SigningKeyMissing")
        assert not AuditCheckpoint.objects.exists()


class TestKeys:
    def test_a_retired_key_still_vouches_for_its_checkpoints_when_trusted(self, settings):
        record(2)
        sign_checkpoint()
        old_public = signing.public_key_text(public_key(settings))
        settings.AUDIT_SIGNING_KEY = signing.new_private_key_text()
        record(1)
        sign_checkpoint()
        run = verify_audit_trail()
        assert [(f["code"], f["seq"]) for f in run.findings] == [("bad_signature", 2)]
        settings.AUDIT_TRUSTED_PUBLIC_KEYS = [old_public]
        assert verify_audit_trail().status == VerificationStatus.PASSED

    def test_keys_are_read_in_either_form(self, settings):
        from cryptography.hazmat.primitives import serialization

        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        settings.AUDIT_SIGNING_KEY = pem
        assert signing.key_id(signing.signing_key().public_key()) == signing.key_id(key.public_key())

    @pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
    def test_a_malformed_key_is_refused(self, settings, value):
        settings.AUDIT_SIGNING_KEY = value
        with pytest.raises(signing.ImproperlyConfigured, match="AUDIT_SIGNING_KEY"):
            signing.signing_key()
        settings.AUDIT_SIGNING_KEY = signing.new_private_key_text()
        settings.AUDIT_TRUSTED_PUBLIC_KEYS = [value]
        with pytest.raises(signing.ImproperlyConfigured, match="AUDIT_TRUSTED_PUBLIC_KEYS"):
            signing.trusted_public_keys()


class TestExport:
    def test_each_checkpoint_is_one_self_contained_line(self, settings):
        record(2)
        sign_checkpoint()
        record(2)
        sign_checkpoint()
        lines = list(export_lines())
        assert len(lines) == 2 and all(line.endswith("\n") for line in lines)
        data = [json.loads(line) for line in lines]
        assert [d["seq"] for d in data] == [2, 4]
        for item, checkpoint in zip(data, AuditCheckpoint.objects.order_by("seq"), strict=True):
            assert item["format"] == FORMAT
            assert bytes.fromhex(item["head_hash"]) == bytes(checkpoint.head_hash)
            assert item["public_key"] == signing.public_key_text(public_key(settings))
            # Anyone holding the file can check it with nothing but the line itself.
            message = checkpoint_message(item["seq"], bytes.fromhex(item["head_hash"]),
                                         datetime.datetime.fromisoformat(item["signed_at"]))  # fmt: skip
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(item["public_key"]))
            key.verify(base64.b64decode(item["signature"]), message)

    def test_the_file_reads_back_as_it_was_written(self):
        record(3)
        sign_checkpoint()
        checkpoint = AuditCheckpoint.objects.get()
        [parsed] = parse_file_lines(io.BytesIO("".join(export_lines()).encode()))
        assert parsed == {
            "seq": 3,
            "head_hash": bytes(checkpoint.head_hash),
            "signed_at": checkpoint.signed_at,
            "key_id": checkpoint.key_id,
            "signature": bytes(checkpoint.signature),
        }

    def test_blank_lines_are_skipped(self):
        record(1)
        sign_checkpoint()
        line = next(export_lines())
        assert len(parse_file_lines(["\n", line, "   \n", line])) == 2

    @pytest.mark.parametrize(
        "bad",
        [
            "{not json",
            json.dumps({"format": "something-else", "seq": 1}),
            json.dumps({"format": FORMAT, "seq": 1}),
            "[1, 2]",
            "42",
            "null",
            "SECRET-CLIENT-NAME",
        ],
    )
    def test_a_malformed_line_is_named_without_its_content(self, bad):
        record(1)
        sign_checkpoint()
        good = next(export_lines())
        with pytest.raises(CheckpointFileError) as error:
            parse_file_lines([good, "\n", bad + "\n", good])
        assert str(error.value) == "line 3 is not an exported Custos checkpoint"

    @pytest.mark.parametrize(
        ("field", "value"), [("head_hash", "zz"), ("signature", "***"), ("signed_at", "yesterday"), ("seq", "six")]
    )
    def test_a_malformed_field_is_named_by_its_line(self, field, value):
        record(1)
        sign_checkpoint()
        data = json.loads(next(export_lines()))
        with pytest.raises(CheckpointFileError, match="line 1 "):
            parse_file_lines([json.dumps({**data, field: value})])

    def test_the_export_command_writes_the_file(self, tmp_path, capsys):
        record(2)
        path = tmp_path / "checkpoints.jsonl"
        call_command("export_audit_checkpoints", output=str(path), sign=True)
        assert path.read_text(encoding="utf-8") == "".join(export_lines())
        assert "1 checkpoints written" in capsys.readouterr().err
        assert AuditCheckpoint.objects.count() == 1

    def test_the_export_command_writes_to_standard_output(self):
        record(2)
        sign_checkpoint()
        out = io.StringIO()
        call_command("export_audit_checkpoints", stdout=out)
        assert out.getvalue() == "".join(export_lines())


def _production(*args: str, **env: str) -> subprocess.CompletedProcess:
    drop = {"CUSTOS_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "REDIS_URL", "AUDIT_SIGNING_KEY", "AUDIT_SIGNING_KEY_FILE",
            "AUDIT_TRUSTED_PUBLIC_KEYS"}  # fmt: skip
    base = {k: v for k, v in os.environ.items() if k not in drop}
    base.update(
        {
            "CUSTOS_ENV": "production",
            "DATABASE_URL": "sqlite:///:memory:",
            "SECRET_KEY": "k" * 10 + "q7Zp" * 12 + "x",
            "ALLOWED_HOSTS": "custos.example.com",
            **env,
        }
    )
    return subprocess.run(  # noqa: S603 — this interpreter, our own arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("", "audit.E001"),
        ("bm90IGEga2V5", "audit.E002"),
        (signing.new_private_key_text(), None),
    ],
    ids=["missing", "malformed", "valid"],
)
def test_the_deployment_check_names_a_missing_or_malformed_signing_key(key, expected):
    result = _production("check", "--deploy", AUDIT_SIGNING_KEY=key)
    output = result.stdout + result.stderr
    if expected:
        assert result.returncode != 0
        assert expected in output
    else:
        assert "audit.E00" not in output, output
