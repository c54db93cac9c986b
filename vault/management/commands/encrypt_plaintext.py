from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from vault.services import encrypt_plaintext


class Command(BaseCommand):
    help = (
        "Encrypt, in place, every client value and document still stored in clear (a database or backup "
        "from before encryption at rest). Each batch commits on its own: safe to interrupt and run again, "
        "and a run over an encrypted database changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per committed batch (default 500).")

    def handle(self, *args, batch_size: int = 500, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        verbose = options["verbosity"] >= 1
        shown = {"values": 0, "files": 0}

        def progress(counts: dict) -> None:
            # Called after every batch; batches that found everything encrypted already say nothing new.
            if verbose and counts != shown:
                shown.update(counts)
                self.stdout.write(f"  {counts['values']} values and {counts['files']} documents encrypted so far")

        counts = encrypt_plaintext(batch_size=batch_size, progress=progress)
        if not counts["values"] and not counts["files"]:
            self.stdout.write(self.style.SUCCESS("Nothing was stored in clear: nothing to do."))
            return
        self.stdout.write(self.style.SUCCESS(f"Encrypted {counts['values']} values and {counts['files']} documents."))
