from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.checkpoints import CheckpointFileError, parse_file_lines
from audit.models import VerificationStatus
from audit.verification import describe, verify_audit_trail


class Command(BaseCommand):
    help = (
        "Recompute the audit hash chain, check every event's fields and every signed checkpoint "
        "(and those of an exported file), and name the first broken record. Exits 1 when anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("--checkpoints", help="A checkpoint file exported earlier (export_audit_checkpoints).")

    def handle(self, *args, checkpoints: str | None = None, **options):
        file_checkpoints = []
        if checkpoints:
            try:
                with Path(checkpoints).open("rb") as handle:
                    file_checkpoints = parse_file_lines(handle)
            except OSError as exc:
                raise CommandError(f"Cannot read {checkpoints}: {exc.strerror}") from None
            except CheckpointFileError as exc:
                raise CommandError(f"{checkpoints}: {exc}") from None
        run = verify_audit_trail(file_checkpoints=file_checkpoints, file_name=checkpoints or "")
        self.stdout.write(
            f"{run.records_checked} records and {run.checkpoints_checked} checkpoints checked "
            f"in {(run.finished_at - run.started_at).total_seconds():.1f} s."
        )
        if run.status == VerificationStatus.PASSED:
            self.stdout.write(self.style.SUCCESS("The audit trail is intact."))
            return
        self.stdout.write(self.style.ERROR(f"{run.problem_count} problem(s) found. First broken record:"))
        for finding in run.findings[:20]:
            where = f"position {finding['seq']}" if finding.get("seq") else "outside the chain"
            event = f", event {finding['event']}" if finding.get("event") else ""
            self.stdout.write(f"  {where}{event}: {describe(finding)}")
        raise SystemExit(1)
