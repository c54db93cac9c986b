from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from jobs.models import JobOutcome
from jobs.services import run_job
from matters.keys import ROTATION_JOB, KeyActionRefused, start_client_key_rotation
from matters.models import Client
from vault.models import RotationState
from vault.services import unfinished_rotations


class Command(BaseCommand):
    help = (
        "Rotate one client's data key: start a rotation (or pick up the one under way) and re-encrypt the "
        "client's rows and documents, to the end or for --batches batches (the periodic job finishes the rest)."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="The client's code.")
        parser.add_argument("--actor", help="Username of the security officer to record as having started it.")
        parser.add_argument("--batches", type=int, help="Stop after this many batches.")
        parser.add_argument("--batch-size", type=int, help=f"Rows per batch (default {settings.VAULT_ROTATION_BATCH}).")

    def handle(self, *args, code: str, actor=None, batches=None, batch_size=None, **options):
        client = Client.objects.filter(code=code).first()
        if client is None:
            raise CommandError(f"No client has the code {code!r}.")
        rotation = unfinished_rotations().filter(owner=client.pk).first()
        if rotation is None:
            rotation = self._start(client, actor)
            self.stdout.write(
                f"{code}: rotation {rotation.pk} started ({rotation.rows_total} rows, {rotation.files_total} files)"
            )
        else:
            self.stdout.write(f"{code}: continuing rotation {rotation.pk} ({rotation.get_state_display()})")
        while True:
            run = run_job(ROTATION_JOB, rotation_id=rotation.pk, batch_size=batch_size, max_batches=batches)
            if run.outcome != JobOutcome.SUCCEEDED:
                raise CommandError(f"{ROTATION_JOB}: {run.outcome}")
            rotation.refresh_from_db()
            self.stdout.write(
                f"{code}: {rotation.get_state_display()}, {rotation.percent}% "
                f"(rows {rotation.rows_done}/{rotation.rows_total}, files {rotation.files_done}/{rotation.files_total})"
            )
            if rotation.state not in (RotationState.RUNNING, RotationState.FINISHING) or batches is not None:
                break
            self._wait_for_caches(rotation)
        if rotation.state == RotationState.DONE:
            self.stdout.write(self.style.SUCCESS(f"{code}: the old key is retired"))
        elif rotation.state == RotationState.ABANDONED:
            raise CommandError(f"{code}: the rotation was abandoned (the client's keys were destroyed)")

    def _start(self, client, username):
        user = None
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user is called {username!r}.")
        try:
            return start_client_key_rotation(actor=user, client=client, enqueue=False)
        except KeyActionRefused as refusal:
            raise CommandError(str(refusal)) from None

    def _wait_for_caches(self, rotation) -> None:
        """The final check waits until no process can still hold the old key as its active key."""
        if rotation.state != RotationState.FINISHING or rotation.finishing_since is None:
            return
        settle = settings.VAULT_KEY_CACHE_SECONDS
        wait = settle - (timezone.now() - rotation.finishing_since).total_seconds()
        if wait > 0:
            self.stdout.write(f"waiting {wait:.0f} s for key caches elsewhere to expire before the final check")
            time.sleep(wait)
