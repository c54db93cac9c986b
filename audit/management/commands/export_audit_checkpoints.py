from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from audit.checkpoints import export_lines, sign_checkpoint


class Command(BaseCommand):
    help = "Write every signed audit checkpoint as JSON lines, to keep outside the database."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")
        parser.add_argument("--sign", action="store_true", help="Sign a checkpoint of the current head first.")

    def handle(self, *args, output: str | None = None, sign: bool = False, **options):
        if sign:
            sign_checkpoint()
        if output:
            with Path(output).open("w", encoding="utf-8") as handle:
                count = sum(1 for line in export_lines() if handle.write(line))
            self.stderr.write(f"{count} checkpoints written to {output}")
        else:
            for line in export_lines():
                self.stdout.write(line, ending="")
