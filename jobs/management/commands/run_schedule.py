from __future__ import annotations

import datetime
import logging
import time

from celery.schedules import maybe_schedule
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from jobs.services import run_job

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run the periodic jobs on their beat schedule, in this process — for the demo, which has no "
        "Redis and so no Celery beat. Production runs `celery beat` (docker-compose.yml)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every job once and stop.")

    def handle(self, *args, once: bool = False, **options):
        entries = {
            name: (entry["args"][0], maybe_schedule(entry["schedule"]))
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
            if entry["task"] == "jobs.tasks.run_periodic_job"
        }
        # Every job runs once at start (the demo's trail is chained, signed and checked at
        # once), then on its schedule.
        last_run = dict.fromkeys(entries, timezone.now() - datetime.timedelta(days=1))
        while True:
            for name, (job, schedule) in entries.items():
                due, _next = schedule.is_due(last_run[name])
                if once or due:
                    last_run[name] = timezone.now()
                    try:
                        run_job(job)
                    except Exception:
                        # Recorded as a failed JobRun by run_job; the schedule goes on.
                        logger.warning("periodic job %s failed", job)
            if once:
                return
            time.sleep(1)
