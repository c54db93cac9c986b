from __future__ import annotations

import logging

from django.utils import timezone
from django.utils.module_loading import import_string

from jobs.models import JobOutcome, JobRun
from jobs.registry import PERIODIC_JOBS, QUIET_WHEN_IDLE

logger = logging.getLogger(__name__)


class UnknownJob(LookupError):
    pass


def run_job(name: str) -> JobRun:
    """Run a registered job and record the run, whether it succeeds or fails.

    A failure is recorded (exception class only: messages may carry data) and
    re-raised so Celery can retry it.
    """
    try:
        function = import_string(PERIODIC_JOBS[name])
    except KeyError:
        raise UnknownJob(name) from None
    run = JobRun(job=name)
    if name not in QUIET_WHEN_IDLE:
        run.save()
    try:
        counts = function() or {}
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
