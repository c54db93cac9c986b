from __future__ import annotations

import logging

from django.utils import timezone
from django.utils.module_loading import import_string

from jobs.models import JobOutcome, JobRun
from jobs.registry import ON_DEMAND_JOBS, PERIODIC_JOBS, QUIET_WHEN_IDLE

logger = logging.getLogger(__name__)


class UnknownJob(LookupError):
    pass


def run_job(name: str, **kwargs) -> JobRun:
    """Run a registered job and record the run, whether it succeeds or fails.

    ``kwargs`` go to the job's function (a rotation's id; from a command, also a
    progress callback). A failure is recorded (exception class only: messages may
    carry data) and re-raised so Celery can retry it.
    """
    dotted = PERIODIC_JOBS.get(name) or ON_DEMAND_JOBS.get(name)
    if dotted is None:
        raise UnknownJob(name)
    function = import_string(dotted)
    run = JobRun(job=name)
    if name not in QUIET_WHEN_IDLE:
        run.save()
    try:
        counts = function(**kwargs) or {}
    except Exception as exc:
        run.outcome, run.error, run.finished_at = JobOutcome.FAILED, type(exc).__name__, timezone.now()
        run.save()
        logger.exception("job %s failed", name)
        raise
    run.outcome, run.counts, run.finished_at = JobOutcome.SUCCEEDED, counts, timezone.now()
    if name in QUIET_WHEN_IDLE and not any(counts.values()):
        return run  # a frequent job that found nothing to do leaves no record
    run.save()
    return run
