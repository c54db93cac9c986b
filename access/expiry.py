"""The daily grant job: expired grants removed, holders warned, undecided requests lapsed.

Expiry itself needs no job — the policy compares ``expires_at`` with the clock on
every request — so this is housekeeping: the rows go, each with its audit event,
and people are told in time to ask for a renewal. Idempotent; batches keep
transactions and memory small at any number of grants (bench/grants.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from access.break_glass import EMERGENCY_REASON
from access.models import (
    AccessRequest,
    GrantLevel,
    MatterGroupGrant,
    MatterUserGrant,
    NotificationKind,
    RequestStatus,
    User,
)
from access.notifications import notify_many
from audit.actions import AuditAction
from audit.events import build_event, write_events

BATCH = 1000


class _Target:
    """What an event records about the grant's matter, read with the grant (no query per row)."""

    def __init__(self, row: dict):
        self.row = row

    def audit_target(self) -> dict:
        row = self.row
        return {
            "client_id": row["content_object__client_id"],
            "client_code": row["content_object__client__code"],
            "matter_id": row["content_object_id"],
            "matter_number": row["content_object__number"],
            "classification": row["content_object__classification"],
        }


_MATTER_COLUMNS = (
    "content_object_id",
    "content_object__number",
    "content_object__classification",
    "content_object__client_id",
    "content_object__client__code",
)


def expire_grants(now: datetime | None = None) -> dict[str, int]:
    """The job ``access.expire_grants``."""
    now = now or timezone.now()
    return {
        "expired": _remove_expired(MatterUserGrant, now) + _remove_expired(MatterGroupGrant, now),
        "warned": _warn_holders(now),
        "lapsed": _lapse_requests(now),
    }


def _remove_expired(model, now: datetime) -> int:
    """Delete grants whose end has passed, one batch per transaction, one event each.

    Not ``QuerySet.delete()``: with django-auditlog connected it loads and logs
    every row one by one; the events written here are the record (CONVENTIONS.md).
    """
    grantee = ("user_id", "user__username") if model is MatterUserGrant else ("group_id", "group__name")
    removed = 0
    while True:
        with transaction.atomic():
            rows = list(
                _lock(model.objects.filter(expires_at__lte=now).order_by("pk")).values(
                    "pk", "expires_at", "request_id", "permission__codename", *grantee, *_MATTER_COLUMNS
                )[:BATCH]
            )
            if not rows:
                return removed
            _delete(model, [row["pk"] for row in rows])
            write_events(_expiry_event(row, grantee) for row in rows)
        removed += len(rows)


def _lock(queryset):
    # On PostgreSQL, rows another run is already removing are skipped, not waited for.
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(of=("self",), skip_locked=True)
    return queryset


def _delete(model, pks: list[int]) -> None:
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(pks))
    with connection.cursor() as cursor:
        # Our own table and column names only; the ids are parameters.
        cursor.execute(
            f"DELETE FROM {quote(model._meta.db_table)} WHERE {quote(model._meta.pk.column)} IN ({placeholders})",  # noqa: S608
            pks,
        )


def _expiry_event(row: dict, grantee: tuple[str, str]):
    id_field, name_field = grantee
    kind = "user" if id_field == "user_id" else "group"
    detail = {
        "grantee": kind,
        id_field: row[id_field],
        kind: row[name_field],
        "level": row["permission__codename"],
        "expires_at": row["expires_at"].isoformat(),
        "request_id": str(row["request_id"]) if row["request_id"] else None,
    }
    return build_event(
        AuditAction.GRANT_EXPIRE,
        outcome="success",
        target=_Target(row),
        actor=None,
        reason="expired",
        detail=detail,
        request=None,
    )


def _warn_holders(now: datetime) -> int:
    """Tell each holder once, ``ACCESS_EXPIRY_WARNING_DAYS`` before their grant ends; for a
    team's grant, the matter's responsible partner, who extends it on the team page."""
    return _warn(MatterUserGrant, now) + _warn(MatterGroupGrant, now)


def _warn(model, now: datetime) -> int:
    horizon = now + timedelta(days=settings.ACCESS_EXPIRY_WARNING_DAYS)
    due = model.objects.filter(expires_at__gt=now, expires_at__lte=horizon, expiry_warned_at__isnull=True)
    # Emergency access lasts hours and is never renewed: nobody is invited to ask for more of it.
    due = due.exclude(reason=EMERGENCY_REASON)
    person = "user_id" if model is MatterUserGrant else "content_object__responsible_partner_id"
    columns = ("pk", person, "expires_at", "permission__codename", "content_object_id", "content_object__number")
    if model is MatterGroupGrant:
        columns += ("group__name",)
    warned = 0
    while True:
        with transaction.atomic():
            rows = list(_lock(due.order_by("pk")).values(*columns)[:BATCH])
            if not rows:
                return warned
            people = User.objects.in_bulk({row[person] for row in rows if row[person]})
            notify_many([_warning(row, people[row[person]]) for row in rows if row[person] in people])
            # A bookkeeping timestamp, not a change anyone audits: a plain UPDATE.
            model.objects.filter(pk__in=[row["pk"] for row in rows]).update(expiry_warned_at=now)
        warned += len(rows)


def _warning(row: dict, recipient: User) -> tuple:
    number = row["content_object__number"]
    params = {
        "number": number,
        "level": GrantLevel(row["permission__codename"]).value,
        # The last day it still authorizes (it ends at that day's midnight).
        "until": timezone.localdate(row["expires_at"] - timedelta(microseconds=1)).isoformat(),
    }
    if "group__name" in row:
        params["team"] = row["group__name"]
        return (
            recipient,
            NotificationKind.TEAM_GRANT_EXPIRING,
            params,
            reverse("access:team", args=[row["content_object_id"]]),
        )
    return recipient, NotificationKind.GRANT_EXPIRING, params, f"{reverse('access:request_new')}?number={number}"


def _lapse_requests(now: datetime) -> int:
    """Requests nobody decided in ``ACCESS_REQUEST_LAPSE_DAYS`` lapse; the requester is told."""
    from access.access_requests import record_request_event, transition_to

    cutoff = now - timedelta(days=settings.ACCESS_REQUEST_LAPSE_DAYS)
    lapsed = 0
    stale = AccessRequest.objects.filter(status=RequestStatus.PENDING, created_at__lt=cutoff).select_related(
        "requester", "matter__client"
    )
    for candidate in stale.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            # Read again under a lock: a decision taken since the list was read stands.
            access_request = _lock(stale.filter(pk=candidate)).first()
            if access_request is None:
                continue
            transition_to(access_request, RequestStatus.LAPSED, actor=None)
            record_request_event(AuditAction.ACCESS_LAPSE, access_request, actor=None)
            notify_many(
                [
                    (
                        access_request.requester,
                        NotificationKind.REQUEST_LAPSED,
                        {"number": access_request.matter_number},
                        reverse("access:my_requests"),
                    )
                ]
            )
        lapsed += 1
    return lapsed
