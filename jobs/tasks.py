from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from jobs.services import run_job


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=3)
def run_periodic_job(name: str, **kwargs) -> int:
    """The one task shape for every job; ``kwargs`` are ids (JSON). Returns the JobRun id."""
    return run_job(name, **kwargs).pk
