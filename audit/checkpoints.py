"""Signed checkpoints of the chain head, and their export for keeping off the database."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Iterator

from django.db import transaction
from django.utils import timezone

from audit import signing
from audit.chain import chain_head, chain_pending_events
from audit.models import AuditCheckpoint

FORMAT = "custos-audit-checkpoint-v1"


def checkpoint_message(seq: int, head_hash: bytes, signed_at: datetime.datetime) -> bytes:
    """The exact bytes signed: what a checkpoint asserts, in a fixed layout."""
    stamp = signed_at.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return f"{FORMAT}\n{seq}\n{head_hash.hex()}\n{stamp}\n".encode()


def sign_checkpoint(now: datetime.datetime | None = None) -> dict[str, int]:
    """The periodic job: chain what is pending, then sign the head if it moved.

    Idempotent: with nothing new since the last checkpoint, it signs nothing.
    """
    chain_pending_events()
    key = signing.signing_key()
    with transaction.atomic():
        seq, head_hash, _event = chain_head()
        last = AuditCheckpoint.objects.order_by("-seq").values_list("seq", flat=True).first()
        if seq == 0 or last == seq:
            return {"signed": 0, "seq": seq}
        signed_at = (now or timezone.now()).astimezone(datetime.UTC)
        AuditCheckpoint.objects.create(
            seq=seq,
            head_hash=head_hash,
            signed_at=signed_at,
            key_id=signing.key_id(key.public_key()),
            signature=key.sign(checkpoint_message(seq, head_hash, signed_at)),
        )
    return {"signed": 1, "seq": seq}


def checkpoint_line(checkpoint: AuditCheckpoint) -> str:
    """One checkpoint as a JSON line, self-contained for verification elsewhere."""
    public = signing.trusted_public_keys().get(checkpoint.key_id)
    return json.dumps(
        {
            "format": FORMAT,
            "seq": checkpoint.seq,
            "head_hash": bytes(checkpoint.head_hash).hex(),
            "signed_at": checkpoint.signed_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
            "key_id": checkpoint.key_id,
            "public_key": signing.public_key_text(public) if public is not None else "",
            "signature": base64.b64encode(bytes(checkpoint.signature)).decode(),
        },
        sort_keys=True,
    )


def export_lines() -> Iterator[str]:
    for checkpoint in AuditCheckpoint.objects.order_by("seq").iterator():
        yield checkpoint_line(checkpoint) + "\n"


class CheckpointFileError(ValueError):
    """The checkpoint file cannot be read; the message names the line, never its content."""


def parse_file_lines(lines) -> list[dict]:
    """Read an exported checkpoint file: [{seq, head_hash (bytes), signed_at, key_id, signature (bytes)}]."""
    checkpoints = []
    for number, line in enumerate(lines, start=1):
        if isinstance(line, bytes):
            line = line.decode("utf-8", errors="replace")
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict) or data.get("format") != FORMAT:  # a list or a number is valid JSON
                raise ValueError
            checkpoints.append(
                {
                    "seq": int(data["seq"]),
                    "head_hash": bytes.fromhex(data["head_hash"]),
                    "signed_at": datetime.datetime.fromisoformat(data["signed_at"]),
                    "key_id": str(data["key_id"]),
                    "signature": base64.b64decode(data["signature"], validate=True),
                }
            )
        except (ValueError, KeyError, TypeError):
            raise CheckpointFileError(f"line {number} is not an exported Custos checkpoint") from None
    return checkpoints
