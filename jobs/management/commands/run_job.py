from django.core.management.base import BaseCommand, CommandError

from jobs.registry import PERIODIC_JOBS
from jobs.services import run_job


class Command(BaseCommand):
    help = "Run a periodic job now, in this process, and record the run."

    def add_arguments(self, parser):
        parser.add_argument("job", choices=sorted(PERIODIC_JOBS))

    def handle(self, *args, **options):
        run = run_job(options["job"])
        if run.outcome != "succeeded":
            raise CommandError(f"{run.job}: {run.outcome}")
        self.stdout.write(f"{run.job}: {run.outcome} {run.counts}")
