from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from matters.conflicts import reindex_names


class Command(BaseCommand):
    help = (
        "Recompute every blind index (client, alias and party names and identifiers) from the encrypted values, "
        "after the normalization changed; lateral hires' prior engagements that matched a record take its new "
        "index. Each batch commits on its own: safe to interrupt and run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per committed batch (default 500).")

    def handle(self, *args, batch_size: int = 500, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        counts = reindex_names(batch_size=batch_size)
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed the blind indexes of {counts['rows']} rows; "
                f"{counts['prior_engagements']} prior engagements carried along."
            )
        )
        if counts["unreadable"]:
            self.stdout.write(
                self.style.WARNING(f"{counts['unreadable']} values could not be opened (tampered?): left as they were.")
            )
