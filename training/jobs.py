"""The daily training job: joiners, recurrences, reminders, lapses and escalations.

Idempotent: each reminder stage is a row (unique per assignment and stage), so a
second run the same day — or a retry after a failure — sends nothing twice.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from access.models import NotificationKind, Role, User
from access.notifications import notify_many
from audit.actions import AuditAction, Outcome
from audit.events import build_event, write_events
from training import assignments
from training.models import Assignment, CourseStatus, Reminder, ReminderStage


def run_daily(today: date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    return {
        "assigned": assignments.sync(),
        "recurred": assign_recurrences(today),
        "reminded": send_reminders(today),
        **record_lapses(today),
    }


def assign_recurrences(today: date) -> int:
    """A recurring course's next round, assigned ``TRAINING_RECURRENCE_LEAD_DAYS`` before the pass
    expires and due on its last day, so a person who retakes it in time never lapses.

    Due on that day even when the job runs late: a pass that has already expired leaves the
    person lapsed (as it did before the job ran), never a day's grace they were not given."""
    horizon = today + timedelta(days=settings.TRAINING_RECURRENCE_LEAD_DAYS)
    due = (
        Assignment.objects.current()
        .filter(course__isnull=False, completed_at__isnull=False, good_through__isnull=False)
        .filter(good_through__lte=horizon, user__in=assignments.staff(), course__status=CourseStatus.PUBLISHED)
        .select_related("user", "course", "rule")
    )
    made = 0
    for previous in due.iterator(chunk_size=500):
        with transaction.atomic():
            assignments.assign_next(previous, due_on=previous.good_through)
            made += 1
    return made


def _stage_for(days_left: int) -> ReminderStage | None:
    """The latest reminder stage reached with ``days_left`` (a missed day still sends it)."""
    reached = [days for days in settings.TRAINING_REMINDER_DAYS if days_left <= days]
    return assignments.STAGE_FOR_DAYS.get(min(reached)) if reached else None


def send_reminders(today: date) -> int:
    """Reminders 14 and 3 days before the due date and on the day, each once."""
    window = today + timedelta(days=max(settings.TRAINING_REMINDER_DAYS))
    rows = (
        Assignment.objects.current()
        .open()
        .filter(due_on__gte=today, due_on__lte=window, user__is_active=True)
        .select_related("user", "course", "version__document")
    )
    sent = 0
    for batch in _batches(rows):
        # A stage is marked sent in the same transaction as its notice: a failure undoes both,
        # and the retry sends it.
        with transaction.atomic():
            notes = []
            for row in batch:
                stage = _stage_for((row.due_on - today).days)
                if stage is not None and _mark(row, stage):
                    params = assignments.notice_params(row)
                    notes.append((row.user, NotificationKind.TRAINING_REMINDER, params, row.item_url()))
            sent += notify_many(notes)
    return sent


def record_lapses(today: date) -> dict[str, int]:
    """Overdue items: the person is told (and the lapse audited) once; their manager — or HR
    when they have none — is told once too."""
    rows = (
        Assignment.objects.overdue(today)
        .filter(user__is_active=True)
        .select_related("user__manager", "course", "version__document")
    )
    hr = list(User.objects.filter(is_active=True, groups__name=Role.HR))
    lapsed = escalated = 0
    for batch in _batches(rows):
        # Marks, events and notices of a batch commit together (see send_reminders).
        with transaction.atomic():
            notes, events = [], []
            for row in batch:
                params = assignments.notice_params(row, due=row.good_through.isoformat())
                if _mark(row, ReminderStage.LAPSED):
                    notes.append((row.user, NotificationKind.TRAINING_OVERDUE, params, row.item_url()))
                    events.append(_lapse_event(row))
                if row.completed_at is None and _mark(row, ReminderStage.ESCALATED):
                    url = reverse("training:person", args=[row.user_id])
                    notes += [
                        (boss, NotificationKind.TRAINING_ESCALATION, {**params, "person": str(row.user)}, url)
                        for boss in _bosses_of(row.user, hr)
                    ]
                    escalated += 1
            write_events(events)
            notify_many(notes)
            lapsed += len(events)
    return {"lapsed": lapsed, "escalated": escalated}


def _bosses_of(person: User, hr: list[User]) -> list[User]:
    """Whom a person's overdue item is escalated to: their manager, or HR (not themselves) without one."""
    if person.manager is not None and person.manager.is_active:
        return [person.manager]
    return [someone for someone in hr if someone.pk != person.pk]


def _batches(rows, size: int = 500):
    batch = []
    for row in rows.iterator(chunk_size=size):
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _mark(row: Assignment, stage: ReminderStage) -> bool:
    """Record that ``stage`` went for ``row``; False when it already had."""
    try:
        with transaction.atomic():
            Reminder.objects.create(assignment=row, stage=stage)
    except IntegrityError:
        return False
    return True


def _lapse_event(row: Assignment):
    detail = {"assignment_id": row.pk, "person_id": row.user_id, "good_through": row.good_through.isoformat()}
    if row.course_id:
        detail["course_id"] = row.course_id
    else:
        detail["version_id"] = str(row.version_id)
    return build_event(
        AuditAction.TRAINING_LAPSE,
        outcome=Outcome.SUCCESS,
        target=None,
        actor=None,
        reason="",
        detail=detail,
        request=None,
    )
