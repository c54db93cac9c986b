"""The periodic jobs: a name, and the service function that does the work.

Every job has the same shape — one Celery task, one management command, one
JobRun record per run — so a new job is one line here plus its beat entry.
"""

from __future__ import annotations

PERIODIC_JOBS: dict[str, str] = {
    "access.end_departed_access": "access.services.end_access_of_departed_users",
    "access.clear_expired_sessions": "access.services.clear_expired_sessions",
    "access.expire_grants": "access.expiry.expire_grants",
    "access.quarterly_review": "access.reviews.start_scheduled_campaign",
    "access.review_housekeeping": "access.reviews.run_housekeeping",
    "training.daily": "training.jobs.run_daily",
    "audit.chain_events": "audit.services.chain_events",
    "audit.sign_checkpoint": "audit.checkpoints.sign_checkpoint",
    "audit.detect": "audit.detection.run_detection",
    "vault.resume_rotations": "matters.keys.resume_rotations",
    "vault.rewrap_data_keys": "matters.keys.rewrap_data_keys",
}

# Jobs started for one thing rather than on a schedule: they take keyword arguments
# (JSON-serialisable ids, as a Celery task's) and are recorded like the periodic ones.
ON_DEMAND_JOBS: dict[str, str] = {
    "vault.rotate_client_key": "matters.keys.continue_client_key_rotation",
    "vault.shred_client": "matters.keys.destroy_client_keys",
}

# Jobs that run every few seconds: a run that found nothing to do is not recorded.
QUIET_WHEN_IDLE = frozenset({"audit.chain_events"})
