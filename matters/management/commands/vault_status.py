from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db.models import Count

from matters.management.commands.rotate_kek import describe
from matters.models import Client
from vault.models import DataKey
from vault.services import kek_status, unfinished_rotations


class Command(BaseCommand):
    help = "Show the KEK versions, data keys per version and state, and unfinished client key rotations (by code)."

    def handle(self, *args, **options):
        self.stdout.write("\n".join(describe(kek_status())))
        states = dict(DataKey.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
        per_state = ", ".join(f"{state}: {n}" for state, n in sorted(states.items())) or "none"
        self.stdout.write(f"data keys per state: {per_state}")
        rotations = list(unfinished_rotations().order_by("started_at"))
        codes = dict(Client.objects.filter(pk__in=[r.owner for r in rotations]).values_list("pk", "code"))
        if not rotations:
            self.stdout.write("unfinished client key rotations: none")
            return
        self.stdout.write(f"unfinished client key rotations: {len(rotations)}")
        for rotation in rotations:
            self.stdout.write(
                f"  {codes.get(rotation.owner, '?')}: {rotation.state}, {rotation.percent}% "
                f"(rows {rotation.rows_done}/{rotation.rows_total}, "
                f"files {rotation.files_done}/{rotation.files_total}), started {rotation.started_at:%Y-%m-%d %H:%M}"
            )
