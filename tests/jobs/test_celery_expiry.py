"""The daily grant job ``access.expire_grants`` through a real Celery worker and a real Redis.

The worker runs on the real clock, so "expired" here means an end an hour ago:
such rows are written directly (``grant_matter_access`` refuses an end in the past).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from access.models import (
    AccessRequest,
    GrantLevel,
    MatterGroupGrant,
    MatterUserGrant,
    Notification,
    NotificationKind,
    RequestStatus,
    Role,
)
from audit.actions import AuditAction
from audit.models import AuditEvent
from jobs.models import JobOutcome
from tests.factories import MatterFactory, UserFactory, grant
from tests.jobs.conftest import TASK, send_job, wait_for_run

pytestmark = pytest.mark.celery_worker

JOB = "access.expire_grants"


def _permission(level: GrantLevel) -> Permission:
    return Permission.objects.get(content_type__app_label="matters", codename=level.value)


def test_worker_removes_expired_grants_and_keeps_live_ones(worker, alice, bob, matter):
    now = timezone.now()
    ended = now - timedelta(hours=1)
    frank = UserFactory(username="frank", roles=(Role.LAWYER,))
    grace = UserFactory(username="grace", roles=(Role.LAWYER,))
    team = Group.objects.create(name="Project Falcon team")
    other = MatterFactory()
    expired_user = MatterUserGrant.objects.create(
        user=frank, content_object=matter, permission=_permission(GrantLevel.DOWNLOAD), reason="t", expires_at=ended
    )
    expired_group = MatterGroupGrant.objects.create(
        group=team, content_object=other, permission=_permission(GrantLevel.VIEW), reason="t", expires_at=ended
    )
    ending_soon = grant(grace, matter, GrantLevel.VIEW, expires_at=now + timedelta(days=3))
    live = grant(frank, other, GrantLevel.EDIT, expires_at=now + timedelta(days=30))
    stale = AccessRequest.objects.create(
        requester=grace,
        matter=other,
        matter_number=other.number,
        level=GrantLevel.VIEW,
        reason="t",
        ends_on=timezone.localdate() + timedelta(days=10),
        created_at=now - timedelta(days=15),
    )

    send_job(worker, JOB)
    run = wait_for_run(worker, JOB)

    assert run.outcome == JobOutcome.SUCCEEDED, run.error
    assert run.counts == {"expired": 2, "warned": 1, "lapsed": 1}
    assert not MatterUserGrant.objects.filter(pk=expired_user.pk).exists()
    assert not MatterGroupGrant.objects.filter(pk=expired_group.pk).exists()
    # Live grants stay: the fixture's (no end), one ending in three days, one in a month.
    remaining = set(MatterUserGrant.objects.values_list("pk", flat=True))
    assert {ending_soon.pk, live.pk} <= remaining
    assert MatterUserGrant.objects.filter(user__in=[alice, bob], content_object=matter).count() == 2
    expired = [event.record for event in AuditEvent.objects.filter(action=AuditAction.GRANT_EXPIRE).order_by("id")]
    assert sorted((record["detail"]["grantee"], record["matter_number"]) for record in expired) == sorted(
        [("user", matter.number), ("group", other.number)]
    )
    assert {record["detail"].get("user") or record["detail"].get("group") for record in expired} == {
        "frank",
        team.name,
    }
    assert Notification.objects.get(kind=NotificationKind.GRANT_EXPIRING).recipient == grace
    stale.refresh_from_db()
    assert stale.status == RequestStatus.LAPSED
    # The worker ran it, not this process.
    assert f"Task {TASK}[" in worker.log()
