from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from vault.services import reindex_blind


class Command(BaseCommand):
    help = (
        "Recompute every blind index (client, alias and party names and identifiers) from the encrypted values, "
        "after the normalization changed. Each batch commits on its own: safe to interrupt and run again. "
        "Prior engagements of lateral hires keep no name to recompute from: record them again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per committed batch (default 500).")

    def handle(self, *args, batch_size: int = 500, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        changed = reindex_blind(batch_size=batch_size)
        self.stdout.write(self.style.SUCCESS(f"Recomputed the blind indexes of {changed} rows."))
