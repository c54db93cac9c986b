"""The departed-user job through a real Celery worker and a real Redis (fixtures: tests/jobs/conftest.py)."""

from __future__ import annotations

import pytest

from access.models import EmploymentStatus, GrantLevel, MatterUserGrant, Role, User
from jobs.models import JobOutcome
from tests.factories import UserFactory, grant
from tests.jobs.conftest import TASK, send_job, wait_for_run

pytestmark = pytest.mark.celery_worker

JOB = "access.end_departed_access"


def test_worker_ends_the_access_of_a_departed_lawyer(worker, matter, bob):
    frank = UserFactory(username="frank", roles=(Role.LAWYER,))
    grant(frank, matter, GrantLevel.DOWNLOAD)
    frank.employment_status = EmploymentStatus.DEPARTED  # HR records the departure; the grant is still there
    frank.save(update_fields=["employment_status"])

    send_job(worker, JOB)
    run = wait_for_run(worker, JOB)

    assert run.outcome == JobOutcome.SUCCEEDED, run.error
    assert run.counts["users"] == 1
    assert run.counts["grants"] == 1
    frank = User.objects.get(pk=frank.pk)
    assert not frank.is_active
    assert not MatterUserGrant.objects.filter(user=frank).exists()
    # Only the departed lose access.
    assert MatterUserGrant.objects.filter(user=bob, content_object=matter).exists()
    assert User.objects.get(pk=bob.pk).is_active
    # The worker ran it, not this process.
    assert f"Task {TASK}[" in worker.log()
