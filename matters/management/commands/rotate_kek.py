from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from jobs.models import JobOutcome
from jobs.services import run_job
from vault.services import kek_status


def describe(status: dict) -> list[str]:
    per_version = ", ".join(f"version {v}: {n}" for v, n in sorted(status["per_version"].items())) or "none"
    return [
        f"current KEK version: {status['current']}",
        f"configured versions: {', '.join(map(str, status['configured']))}",
        f"retired versions: {', '.join(map(str, status['retired'])) or 'none'}",
        f"data keys per version: {per_version}",
        f"left to rewrap: {status['remaining']} of {status['total']}",
    ]


class Command(BaseCommand):
    help = (
        "Rewrap every data key under the newest KEK version in VAULT_KEKS (the job vault.rewrap_data_keys, "
        "run now and recorded). Nothing is re-encrypted and nothing becomes unreadable meanwhile; an "
        "interrupted run is finished by running it again, or by the periodic job."
    )

    def add_arguments(self, parser):
        parser.add_argument("--status", action="store_true", help="Only show where the rotation stands.")

    def handle(self, *args, status: bool = False, **options):
        before = kek_status()
        if status:
            self.stdout.write("\n".join(describe(before)))
            return
        if before["configured"] == [before["current"]] and not before["remaining"]:
            following = before["current"] + 1
            raise CommandError(
                f"Every data key is already under KEK version {before['current']}, the only version configured: "
                f"add a new version to VAULT_KEKS first (e.g. '{before['current']}:<old>,{following}:<new>'; "
                f"`manage.py vault_keys --kek-version {following}` makes one), deploy it to every "
                "process, then run rotate_kek."
            )
        total = before["remaining"]

        def progress(counts: dict) -> None:
            self.stdout.write(f"{counts['rewrapped']} of {total} data keys rewrapped")

        run = run_job("vault.rewrap_data_keys", progress=progress)
        if run.outcome != JobOutcome.SUCCEEDED:
            raise CommandError(f"vault.rewrap_data_keys: {run.outcome}")
        retired = run.counts.get("retired_versions") or []
        self.stdout.write(
            self.style.SUCCESS(f"vault.rewrap_data_keys: {run.outcome}, {run.counts.get('rewrapped', 0)} rewrapped")
        )
        self.stdout.write("\n".join(describe(kek_status())))
        if retired:
            self.stdout.write(
                f"KEK version(s) {', '.join(map(str, retired))} retired: remove them from VAULT_KEKS "
                "(they no longer unwrap anything here)."
            )
