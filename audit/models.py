"""Access events, their hash chain, signed checkpoints, verifications, and alerts.

The audit app depends on no other app of ours: people are referred to through
``AUTH_USER_MODEL`` and matters, documents and clients by their ids plus the
non-sensitive labels (matter number, client code) recorded in each event.
"""

from __future__ import annotations

import datetime
import json
from functools import cached_property

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.actions import AuditAction, Outcome


class ClockTimestamp(Now):
    """The database's clock when the row is written (PostgreSQL's ``now()`` would
    give the transaction's start). SQLite's ``Now`` is already the statement's time."""

    def as_postgresql(self, compiler, connection, **extra_context):
        return "clock_timestamp()", []


class AuditEvent(models.Model):
    """One access to client information or one security-relevant act, as it happened.

    ``payload`` holds the event's canonical bytes (sorted-key JSON): they are
    what the chain hashes and what the review screen shows, so verification
    never re-serialises. The other columns are a projection of the payload for
    filtering; verification checks that they still agree with it. Insert-only:
    on PostgreSQL, triggers reject UPDATE, DELETE and TRUNCATE.
    """

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    action = models.CharField(_("action"), max_length=48, choices=AuditAction)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome)
    # No database constraint: a person's events outlive their account, and the
    # log must not depend on rows elsewhere staying put.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # audit_event_actor (actor, -id) serves every lookup; a second index only slows inserts
        related_name="+",
    )
    session_ref = models.CharField(_("session"), max_length=16, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    client_id = models.UUIDField(_("client"), null=True, blank=True)
    matter_id = models.UUIDField(_("matter"), null=True, blank=True)
    document_id = models.UUIDField(_("document"), null=True, blank=True)
    payload = models.BinaryField(_("canonical record"))
    # When the row was written, by the database's clock: the sequencer's gap
    # grace counts from it (audit.chain). Not part of the record.
    recorded_at = models.DateTimeField(_("written at"), db_default=ClockTimestamp())

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        db_table = "audit_event"
        # "Last events of this person / matter / client", newest first, without a sort.
        indexes = [
            models.Index(fields=["actor", "-id"], name="audit_event_actor"),
            models.Index(fields=["matter_id", "-id"], name="audit_event_matter"),
            models.Index(fields=["client_id", "-id"], name="audit_event_client"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action}"

    @cached_property
    def record(self) -> dict:
        """The canonical record, decoded: what the review screen shows."""
        return json.loads(bytes(self.payload))

    def get_action_display(self) -> str:
        return AuditAction(self.action).label if self.action in AuditAction.values else self.action


class AuditLink(models.Model):
    """The event's place in the hash chain: ``hash = SHA-256(previous hash ‖ SHA-256(payload))``.

    Written only by the sequencer (one at a time, in event-id order, gapless
    ``seq``). Insert-only like the events.
    """

    seq = models.BigIntegerField(_("position"), primary_key=True)
    event = models.OneToOneField(
        AuditEvent, verbose_name=_("event"), on_delete=models.PROTECT, related_name="link", db_constraint=False
    )
    hash = models.BinaryField(_("hash"), max_length=32)
    chained_at = models.DateTimeField(_("chained at"))

    class Meta:
        verbose_name = _("audit chain link")
        verbose_name_plural = _("audit chain links")
        db_table = "audit_link"

    def __str__(self) -> str:
        return f"{self.seq}"


class AuditCheckpoint(models.Model):
    """A signed statement "the chain had ``seq`` records and ended in ``head_hash``".

    Signed with the Ed25519 key from the environment and exported off the
    database: a database superuser can recompute the whole chain, but not sign.
    """

    seq = models.BigIntegerField(_("position"))
    head_hash = models.BinaryField(_("head hash"), max_length=32)
    signed_at = models.DateTimeField(_("signed at"))
    key_id = models.CharField(_("key"), max_length=16)
    signature = models.BinaryField(_("signature"), max_length=64)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        db_table = "audit_checkpoint"
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"{self.seq} @ {self.signed_at:%Y-%m-%d %H:%M}"


class VerificationStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    ERROR = "error", _("Could not finish")


class AuditVerification(models.Model):
    """One run of the chain verification and what it found."""

    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(
        _("result"), max_length=16, choices=VerificationStatus, default=VerificationStatus.RUNNING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    records_checked = models.PositiveBigIntegerField(_("records checked"), default=0)
    checkpoints_checked = models.PositiveIntegerField(_("checkpoints checked"), default=0)
    checkpoint_file = models.CharField(_("checkpoint file"), max_length=255, blank=True)
    problem_count = models.PositiveIntegerField(_("problems found"), default=0)
    first_problem = models.CharField(_("first problem"), max_length=48, blank=True)
    first_broken_seq = models.BigIntegerField(_("first broken position"), null=True, blank=True)
    first_broken_event = models.BigIntegerField(_("first broken event"), null=True, blank=True)
    # [{"code": …, "seq": …, "event": …}], in chain order; rendered by audit.verification.describe.
    findings = models.JSONField(_("findings"), default=list, blank=True)

    class Meta:
        verbose_name = _("audit verification")
        verbose_name_plural = _("audit verifications")
        db_table = "audit_verification"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}"


class Rule(models.TextChoices):
    BULK_DOWNLOAD = "bulk_download", _("Bulk downloads")
    OFF_HOURS = "off_hours", _("Confidential matter outside working hours")
    DENIAL_BURST = "denial_burst", _("Burst of denied attempts")
    DEPARTING_STAFF = "departing_staff", _("Activity by departing or departed staff")
    WALL_BREACH = "wall_breach", _("Attempt through an ethical wall")
    BREAK_GLASS = "break_glass", _("Emergency access to a matter")


class Severity(models.IntegerChoices):
    LOW = 10, _("Low")
    MEDIUM = 20, _("Medium")
    HIGH = 30, _("High")
    CRITICAL = 40, _("Critical")


class AlertStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("alert status", "Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    FALSE_POSITIVE = "false_positive", _("False positive")


# Which statuses an alert may move to from each status (audit.services.transition_alert).
ALERT_TRANSITIONS: dict[str, frozenset[str]] = {
    AlertStatus.OPEN: frozenset({AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED, AlertStatus.FALSE_POSITIVE}),
    AlertStatus.ACKNOWLEDGED: frozenset({AlertStatus.RESOLVED, AlertStatus.FALSE_POSITIVE, AlertStatus.OPEN}),
    AlertStatus.RESOLVED: frozenset({AlertStatus.OPEN}),
    AlertStatus.FALSE_POSITIVE: frozenset({AlertStatus.OPEN}),
}


class Alert(models.Model):
    """Something a detection rule found in the events, for the security officer to look at.

    Names the person and, where there is one, the matter number; never contents.
    A rule that keeps firing for the same person adds to their open alert
    instead of raising a new one.
    """

    rule = models.CharField(_("rule"), max_length=32, choices=Rule)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity)
    status = models.CharField(_("status"), max_length=16, choices=AlertStatus, default=AlertStatus.OPEN)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    subject_username = models.CharField(_("username"), max_length=150, blank=True)
    matter_id = models.UUIDField(_("matter"), null=True, blank=True)
    matter_number = models.CharField(_("matter number"), max_length=32, blank=True)
    facts = models.JSONField(_("facts"), default=dict, blank=True)
    event_count = models.PositiveIntegerField(_("events"), default=0)
    first_event = models.BigIntegerField(_("first event"))
    last_event = models.BigIntegerField(_("last event"))
    window_start = models.DateTimeField(_("from"))
    window_end = models.DateTimeField(_("until"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_alerts",
    )
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        db_table = "audit_alert"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="audit_alert_inbox")]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class AlertNote(models.Model):
    """A note on an alert, or a record of a change to it (status, assignee)."""

    alert = models.ForeignKey(Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("note"), blank=True)
    status_from = models.CharField(_("status before"), max_length=16, choices=AlertStatus, blank=True)
    status_to = models.CharField(_("status after"), max_length=16, choices=AlertStatus, blank=True)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        verbose_name = _("alert note")
        verbose_name_plural = _("alert notes")
        db_table = "audit_alert_note"
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.created_at:%Y-%m-%d %H:%M}"


def _working_days() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday to Friday (datetime.weekday())


class DetectionSettings(models.Model):
    """The detection rules' thresholds: one row, edited by the security officer."""

    bulk_download_enabled = models.BooleanField(_("bulk downloads: on"), default=True)
    bulk_download_count = models.PositiveIntegerField(_("more than this many documents"), default=50)
    bulk_download_minutes = models.PositiveIntegerField(_("within minutes"), default=10)
    off_hours_enabled = models.BooleanField(_("outside working hours: on"), default=True)
    work_starts = models.TimeField(_("working day starts"), default=datetime.time(8, 0))
    work_ends = models.TimeField(_("working day ends"), default=datetime.time(20, 0))
    work_days = models.JSONField(_("working days"), default=_working_days)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    off_hours_min_classification = models.PositiveSmallIntegerField(_("from classification"), default=30)
    denial_burst_enabled = models.BooleanField(_("bursts of denials: on"), default=True)
    denial_burst_count = models.PositiveIntegerField(_("this many denials or more"), default=10)
    denial_burst_minutes = models.PositiveIntegerField(_("within minutes"), default=5)
    departing_staff_enabled = models.BooleanField(_("departing staff: on"), default=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("updated by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("detection settings")
        verbose_name_plural = _("detection settings")
        db_table = "audit_detection_settings"

    def __str__(self) -> str:
        return str(_("Detection settings"))

    @classmethod
    def current(cls) -> DetectionSettings:
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row


class DetectionCursor(models.Model):
    """How far along the chain the detection rules have looked (one row)."""

    last_seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "audit_detection_cursor"

    def __str__(self) -> str:
        return str(self.last_seq)
