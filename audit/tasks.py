"""Celery tasks of the audit app: thin, JSON arguments only."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from audit.checkpoints import parse_file_lines
from audit.verification import verify_audit_trail


@shared_task
def verify_audit_trail_task(requested_by_id: int | None, checkpoint_lines: list[str], file_name: str = "") -> int:
    """The security officer's "Verify now": verify everything and record the result; returns its id.

    ``checkpoint_lines``: the lines of an exported checkpoint file (already
    checked by the form), passed as text because task arguments are JSON. No
    retries: a verification that cannot finish is recorded as such, and the
    officer may press the button again.
    """
    requested_by = get_user_model().objects.filter(pk=requested_by_id).first() if requested_by_id else None
    file_checkpoints = parse_file_lines(checkpoint_lines) if checkpoint_lines else []
    return verify_audit_trail(file_checkpoints=file_checkpoints, file_name=file_name, requested_by=requested_by).pk
