"""Alerts: raising them from detection findings, and the security officer's work on them.

One function per operation, each in one transaction: ``raise_alert`` (or add to
the open alert it repeats), ``transition_to``, ``assign``, ``add_note`` and
``update_detection_settings``. Every change by a person leaves an
``AlertNote`` (status and assignee changes) and an ``ALERT_UPDATE`` /
``DETECTION_SETTINGS_CHANGE`` audit event.

An alert names a person and at most a matter number: what the rule counted is
kept in ``Alert.facts`` as numbers and rendered as a sentence by
:func:`describe_alert`, so no client data reaches the inbox or an e-mail.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit.actions import AuditAction
from audit.events import record_event
from audit.models import ALERT_TRANSITIONS, Alert, AlertNote, AlertStatus, DetectionSettings, Rule, Severity

logger = logging.getLogger(__name__)

# A rule firing again for the same person (and matter) within this long adds to
# their open alert instead of raising, and e-mailing, a new one.
MERGE_WINDOW = datetime.timedelta(hours=24)
OPEN_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
NOTE_MAX_LENGTH = 2000
# Employment statuses of the user model that the departing-staff rule watches
# (access.models.EmploymentStatus; audit does not import access).
DEPARTING, DEPARTED = "departing", "departed"


class AlertError(Exception):
    """A change to an alert that is not allowed; ``message`` is shown to the security officer."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Finding:
    """What one rule found in one batch of events about one subject: the input to :func:`raise_alert`."""

    rule: str
    severity: int
    event_ids: set[int]
    window_start: datetime.datetime
    window_end: datetime.datetime
    subject_id: int | None = None
    subject_username: str = ""
    matter_id: Any = None
    matter_number: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


# --- Raising ---------------------------------------------------------------------------


def raise_alert(finding: Finding, *, now: datetime.datetime | None = None) -> tuple[Alert, bool]:
    """Create an alert for ``finding``, or add it to the open alert it repeats.

    Returns the alert and whether it is new. Only a new alert is e-mailed
    (after commit). Adding the same events twice changes nothing: only events
    after the alert's last one are counted.
    """
    now = now or timezone.now()
    with transaction.atomic():
        existing = _open_alert_for(finding, now)
        if existing is not None:
            _merge(existing, finding, now)
            return existing, False
        ids = sorted(finding.event_ids)
        alert = Alert.objects.create(
            rule=finding.rule,
            severity=finding.severity,
            subject_id=finding.subject_id,
            subject_username=finding.subject_username[:150],
            matter_id=finding.matter_id,
            matter_number=finding.matter_number[:32],
            facts=finding.facts,
            event_count=len(ids),
            first_event=ids[0],
            last_event=ids[-1],
            window_start=finding.window_start,
            window_end=finding.window_end,
            created_at=now,
            updated_at=now,
        )
        transaction.on_commit(partial(notify_reviewers, alert.pk), robust=True)
    return alert, True


def _open_alert_for(finding: Finding, now: datetime.datetime) -> Alert | None:
    if finding.rule == Rule.BREAK_GLASS:
        return None  # every emergency access is its own alert, reviewed on its own
    alerts = Alert.objects.select_for_update().filter(
        rule=finding.rule, status__in=OPEN_STATUSES, created_at__gte=now - MERGE_WINDOW
    )
    if finding.subject_id is not None:
        alerts = alerts.filter(subject_id=finding.subject_id)
    else:
        alerts = alerts.filter(subject__isnull=True, facts__ip=finding.facts.get("ip"))
    if finding.rule in (Rule.OFF_HOURS, Rule.WALL_BREACH):
        alerts = alerts.filter(matter_id=finding.matter_id)
    return alerts.order_by("-created_at", "-pk").first()


def _merge(alert: Alert, finding: Finding, now: datetime.datetime) -> None:
    new_ids = [event_id for event_id in finding.event_ids if event_id > alert.last_event]
    if not new_ids:
        return
    facts = {**alert.facts, **finding.facts}
    if "count" in alert.facts and "count" in finding.facts:
        facts["count"] = max(alert.facts["count"], finding.facts["count"])
    alert.facts = facts
    alert.event_count += len(new_ids)
    alert.last_event = max(new_ids)
    alert.window_end = max(alert.window_end, finding.window_end)
    alert.severity = max(alert.severity, finding.severity)
    alert.updated_at = now
    alert.save(update_fields=["facts", "event_count", "last_event", "window_end", "severity", "updated_at"])


# --- E-mail ----------------------------------------------------------------------------


def reviewers() -> QuerySet:
    """The people alerts go to and may be assigned to: active members of the reviewer group."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=settings.AUDIT_REVIEWER_GROUP)
        .exclude(employment_status=DEPARTED)
        .distinct()
        .order_by("username")
    )


def notify_reviewers(alert_id: int) -> int:
    """E-mail a new alert to the security officers; returns how many addresses it went to.

    Called after the alert's transaction commits. A failure is logged (by its
    class only: an SMTP error can quote addresses) and never fails the job.
    """
    try:
        alert = Alert.objects.filter(pk=alert_id).first()
        recipients = list(reviewers().exclude(email="").values_list("email", flat=True))
        if alert is None or not recipients:
            return 0
        with translation.override(settings.LANGUAGE_CODE):
            context = {
                "alert": alert,
                "sentence": describe_alert(alert),
                "url": _site_url() + reverse("audit:alert_detail", args=[alert.pk]),
            }
            subject = " ".join(render_to_string("audit/email/alert_subject.txt", context).split())
            body = render_to_string("audit/email/alert_body.txt", context)
        send_mail(subject, body, None, recipients)
    except Exception as exc:
        logger.error("alert e-mail not sent for alert %s: %s", alert_id, type(exc).__name__)
        return 0
    return len(recipients)


def _site_url() -> str:
    return (getattr(settings, "SITE_URL", "") or "").rstrip("/")


# --- The security officer's work on an alert --------------------------------------------


@transaction.atomic
def transition_to(alert: Alert, status: str, *, actor, note: str = "") -> Alert:
    """Move the alert to ``status`` if ALERT_TRANSITIONS allows it from where it is now."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if status not in AlertStatus.values:
        raise AlertError(_("This is not a status an alert can have."))
    if status not in ALERT_TRANSITIONS[alert.status]:
        raise AlertError(
            _("An alert that is “%(current)s” cannot be changed to “%(status)s”.")
            % {"current": alert.get_status_display(), "status": AlertStatus(status).label}
        )
    previous = alert.status
    alert.status, alert.updated_at = status, timezone.now()
    alert.save(update_fields=["status", "updated_at"])
    AlertNote.objects.create(
        alert=alert, author=actor, text=_clean_note(note, required=False), status_from=previous, status_to=status
    )
    _record_update(alert, actor, {"change": "status", "from": previous, "to": status})
    return alert


@transaction.atomic
def assign(alert: Alert, assignee, *, actor) -> Alert:
    """Give the alert to a security officer (``assignee=None`` takes it off whoever has it)."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if assignee is not None and not reviewers().filter(pk=assignee.pk).exists():
        raise AlertError(_("An alert can only be assigned to a security officer."))
    if alert.assignee_id == (assignee.pk if assignee is not None else None):
        return alert
    alert.assignee, alert.updated_at = assignee, timezone.now()
    alert.save(update_fields=["assignee", "updated_at"])
    text = (
        _("Assigned to %(username)s.") % {"username": assignee.get_username()}
        if assignee is not None
        else _("Unassigned.")
    )
    AlertNote.objects.create(alert=alert, author=actor, text=text)
    _record_update(
        alert, actor, {"change": "assignee", "assignee": assignee.get_username() if assignee is not None else ""}
    )
    return alert


@transaction.atomic
def add_note(alert: Alert, text: str, *, actor) -> AlertNote:
    """A note by the security officer. The audit event says a note was added, not what it says."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    note = AlertNote.objects.create(alert=alert, author=actor, text=_clean_note(text, required=True))
    alert.updated_at = timezone.now()
    alert.save(update_fields=["updated_at"])
    _record_update(alert, actor, {"change": "note"})
    return note


def _clean_note(text: str, *, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise AlertError(_("Write the note first."))
    if len(text) > NOTE_MAX_LENGTH:
        raise AlertError(_("A note can be at most %(limit)d characters long.") % {"limit": NOTE_MAX_LENGTH})
    return text


def _record_update(alert: Alert, actor, detail: dict) -> None:
    record_event(AuditAction.ALERT_UPDATE, actor=actor, detail={"alert": alert.pk, "rule": alert.rule, **detail})


# --- Thresholds ---------------------------------------------------------------------------

DETECTION_FIELDS = (
    "bulk_download_enabled",
    "bulk_download_count",
    "bulk_download_minutes",
    "off_hours_enabled",
    "work_starts",
    "work_ends",
    "work_days",
    "time_zone",
    "off_hours_min_classification",
    "denial_burst_enabled",
    "denial_burst_count",
    "denial_burst_minutes",
    "departing_staff_enabled",
)
COUNT_FIELDS = ("bulk_download_count", "denial_burst_count")
MINUTE_FIELDS = ("bulk_download_minutes", "denial_burst_minutes")
MAX_WINDOW_MINUTES = 1440
# The classification levels of matters.models.Classification (audit imports no app
# of ours); the same msgids, so they share its translations.
CLASSIFICATION_LABELS = {
    10: gettext_lazy("Public"),
    20: gettext_lazy("Internal"),
    30: gettext_lazy("Confidential"),
    40: gettext_lazy("Highly confidential"),
}


def check_detection_settings(values: Mapping[str, Any]) -> None:
    """Raise ValidationError (per field) for thresholds the rules cannot work with.

    Checks only the keys present, so a form can call it after its own field checks.
    """
    errors: dict[str, str] = {}
    for name in COUNT_FIELDS:
        if name in values and values[name] is not None and values[name] < 1:
            errors[name] = _("Enter a number of 1 or more.")
    for name in MINUTE_FIELDS:
        if name in values and values[name] is not None and not 1 <= values[name] <= MAX_WINDOW_MINUTES:
            errors[name] = _("Enter a number of minutes from 1 to %(max)d (one day).") % {"max": MAX_WINDOW_MINUTES}
    starts, ends = values.get("work_starts"), values.get("work_ends")
    if starts is not None and ends is not None and starts >= ends:
        errors["work_ends"] = _("The working day must end after it starts.")
    if "work_days" in values and not values["work_days"]:
        errors["work_days"] = _("Choose at least one working day.")
    if values.get("time_zone") and not is_time_zone(values["time_zone"]):
        errors["time_zone"] = _("“%(zone)s” is not a time zone name such as Asia/Shanghai or Europe/London.") % {
            "zone": values["time_zone"]
        }
    if errors:
        raise ValidationError(errors)


def is_time_zone(name: str) -> bool:
    return name in zoneinfo.available_timezones()


@transaction.atomic
def update_detection_settings(*, actor, values: Mapping[str, Any]) -> DetectionSettings:
    """Change the thresholds; records who changed them and the new values (all numbers, times and days)."""
    check_detection_settings(values)
    DetectionSettings.current()  # the row exists before it is locked
    row = DetectionSettings.objects.select_for_update().get(pk=1)
    changed = {}
    for name in DETECTION_FIELDS:
        if name not in values:
            continue
        value = sorted(set(values[name])) if name == "work_days" else values[name]
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed[name] = value.strftime("%H:%M") if isinstance(value, datetime.time) else value
    if not changed:
        return row
    row.updated_at, row.updated_by = timezone.now(), actor
    row.full_clean()
    row.save(update_fields=[*changed, "updated_at", "updated_by"])
    record_event(AuditAction.DETECTION_SETTINGS_CHANGE, actor=actor, detail={"changed": changed})
    return row


def detection_time_zone(row: DetectionSettings) -> zoneinfo.ZoneInfo:
    """The zone working hours are read in: the configured one, else the site's TIME_ZONE."""
    return zoneinfo.ZoneInfo(row.time_zone or settings.TIME_ZONE)


# --- What an alert says -----------------------------------------------------------------


def describe_alert(alert: Alert) -> str:
    """The alert as one sentence in the active language, built from its facts (numbers, names of no client)."""
    facts = alert.facts or {}
    person = alert.subject_username or facts.get("ip") or _("someone unknown")
    count = alert.event_count
    if alert.rule == Rule.BULK_DOWNLOAD:
        return ngettext(
            "%(person)s downloaded %(count)d document within %(duration)s.",
            "%(person)s downloaded %(count)d documents within %(duration)s.",
            facts.get("count", count),
        ) % {"person": person, "count": facts.get("count", count), "duration": _minutes(facts.get("minutes", 0))}
    if alert.rule == Rule.DENIAL_BURST:
        return ngettext(
            "%(person)s was refused %(count)d time within %(duration)s.",
            "%(person)s was refused %(count)d times within %(duration)s.",
            facts.get("count", count),
        ) % {"person": person, "count": facts.get("count", count), "duration": _minutes(facts.get("minutes", 0))}
    if alert.rule == Rule.OFF_HOURS:
        return ngettext(
            "%(person)s used matter %(matter)s outside working hours (%(count)d event, "
            "at %(time)s on %(day)s, %(zone)s time).",
            "%(person)s used matter %(matter)s outside working hours (%(count)d events, "
            "the latest at %(time)s on %(day)s, %(zone)s time).",
            count,
        ) % {
            "person": person,
            "matter": alert.matter_number or "—",
            "count": count,
            "time": facts.get("local_time", ""),
            "day": WEEKDAYS.get(facts.get("weekday"), ""),
            "zone": facts.get("time_zone", ""),
        }
    if alert.rule == Rule.DEPARTING_STAFF:
        if facts.get("employment_status") == DEPARTED:
            message = ngettext(
                "%(person)s, who has left the firm, was active: %(count)d event.",
                "%(person)s, who has left the firm, was active: %(count)d events.",
                count,
            )
        else:
            message = ngettext(
                "%(person)s, who is leaving the firm, was active: %(count)d event.",
                "%(person)s, who is leaving the firm, was active: %(count)d events.",
                count,
            )
        return message % {"person": person, "count": count}
    if alert.rule == Rule.WALL_BREACH:
        return ngettext(
            "%(person)s tried to reach matter %(matter)s through an ethical wall (%(count)d attempt).",
            "%(person)s tried to reach matter %(matter)s through an ethical wall (%(count)d attempts).",
            count,
        ) % {"person": person, "matter": alert.matter_number or "—", "count": count}
    if alert.rule == Rule.BREAK_GLASS:
        return _("%(person)s opened matter %(matter)s in an emergency; review it.") % {
            "person": person,
            "matter": alert.matter_number or "—",
        }
    return alert.get_rule_display()


def describe_threshold(alert: Alert) -> str:
    """The threshold the rule applied when it fired, from the alert's facts."""
    facts = alert.facts or {}
    if alert.rule == Rule.BULK_DOWNLOAD:
        return _("Fires at more than %(threshold)d downloads by one person within %(duration)s.") % {
            "threshold": facts.get("threshold", 0),
            "duration": _minutes(facts.get("minutes", 0)),
        }
    if alert.rule == Rule.DENIAL_BURST:
        return _("Fires at %(threshold)d or more refusals of one person or address within %(duration)s.") % {
            "threshold": facts.get("threshold", 0),
            "duration": _minutes(facts.get("minutes", 0)),
        }
    if alert.rule == Rule.OFF_HOURS:
        level = CLASSIFICATION_LABELS.get(facts.get("min_classification"), facts.get("min_classification", ""))
        return _("Fires on any use of a matter classified %(level)s or higher outside working hours.") % {
            "level": level
        }
    if alert.rule == Rule.WALL_BREACH:
        return _("Fires on any attempt by a person an ethical wall screens from the matter.")
    if alert.rule == Rule.BREAK_GLASS:
        return _("Fires on every use of emergency access.")
    return _("Fires on any activity of a person who is leaving or has left the firm.")


def _minutes(minutes: int) -> str:
    return ngettext("%(minutes)d minute", "%(minutes)d minutes", minutes) % {"minutes": minutes}


def severity_for_departure(status: str) -> int:
    return Severity.CRITICAL if status == DEPARTED else Severity.HIGH
