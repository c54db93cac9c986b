"""People, roles and matter grants.

Roles are Django groups with well-known names (see :class:`Role`); other groups
are teams that may hold grants. Grants are django-guardian object permissions
stored in direct foreign-key tables, never the generic ones (their text
``object_pk`` forces a cast per row; see DESIGN.md, Authorization).
"""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.managers import GroupObjectPermissionManager, UserObjectPermissionManager
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Role(models.TextChoices):
    """A role is a group with one of these names; a user may hold several."""

    LAWYER = "lawyer", _("Lawyer")
    PARTNER = "partner", _("Partner")
    SECURITY_OFFICER = "security_officer", _("Security officer")
    HR = "hr", _("HR")
    ADMINISTRATOR = "administrator", _("Administrator")
    VENDOR = "vendor", _("Vendor")


class Department(models.TextChoices):
    LITIGATION = "litigation", _("Litigation")
    CORPORATE = "corporate", _("Corporate and M&A")
    IP = "ip", _("Intellectual property")
    EMPLOYMENT = "employment", _("Employment")
    FINANCE = "finance", _("Banking and finance")
    COMPLIANCE = "compliance", _("Compliance and investigations")
    RISK = "risk", _("Risk and security")
    HUMAN_RESOURCES = "human_resources", _("Human resources")
    IT = "it", _("Information technology")
    EXTERNAL = "external", _("External")


class EmploymentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DEPARTING = "departing", _("Departing")
    DEPARTED = "departed", _("Departed")


class User(AbstractUser):
    """Anyone who signs in: staff, partners and vendor users.

    Employment status drives access: a departed user's grants, group
    memberships and sessions are ended by a periodic job, and the
    authorization policy refuses a departed user even before the job runs.
    """

    department = models.CharField(_("department"), max_length=32, choices=Department, blank=True)
    employment_status = models.CharField(
        _("employment status"), max_length=16, choices=EmploymentStatus, default=EmploymentStatus.ACTIVE
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    departure_date = models.DateField(
        _("departure date"),
        null=True,
        blank=True,
        help_text=_("Required for a departing person. Their grants and sessions end at the start of this day."),
    )
    manager = models.ForeignKey(
        "self", verbose_name=_("manager"), null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def clean(self) -> None:
        super().clean()
        if self.employment_status == EmploymentStatus.DEPARTING and self.departure_date is None:
            raise ValidationError({"departure_date": _("Set the departure date of a departing person.")})

    @property
    def is_departed(self) -> bool:
        """Departed, or departing and the departure date has come.

        Exact, like every expiry here: true from the start of the departure date,
        even before the periodic job records the departure.
        """
        if self.employment_status == EmploymentStatus.DEPARTED:
            return True
        return (
            self.employment_status == EmploymentStatus.DEPARTING
            and self.departure_date is not None
            and self.departure_date <= timezone.localdate()
        )

    def role_names(self) -> set[str]:
        if not hasattr(self, "_role_names"):
            self._role_names = set(self.groups.filter(name__in=Role.values).values_list("name", flat=True))
        return self._role_names

    def has_role(self, role: Role) -> bool:
        return role.value in self.role_names()


class GrantLevel(models.TextChoices):
    """How much a grant allows; each level includes the ones before it.

    The value is the codename of the guardian permission the grant carries.
    """

    VIEW = "view_matter", _("View")
    DOWNLOAD = "download_matter", _("Download")
    EDIT = "change_matter", _("Edit")
    MANAGE = "manage_matter", _("Manage")

    @classmethod
    def at_least(cls, level: GrantLevel) -> list[str]:
        order = list(cls)
        return [lvl.value for lvl in order[order.index(level) :]]


class GrantQuerySet(models.QuerySet):
    def live(self, at=None):
        """Grants in force at ``at``: expiry is exact, whatever a job has cleaned up."""
        at = at or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))


class GrantDetails(models.Model):
    """Who granted access, why, and until when."""

    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("granted at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    # The approved request this grant came from (None: added directly, or by a job).
    request = models.ForeignKey(
        "access.AccessRequest",
        verbose_name=_("request"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # When the holder was told the grant is about to end (once per grant; a renewal clears it).
    expiry_warned_at = models.DateTimeField(_("expiry warning sent at"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def level(self) -> GrantLevel:
        return GrantLevel(self.permission.codename)

    @property
    def last_day(self) -> date | None:
        """The day access lasts to the end of, when it ends at a local midnight (as every
        grant from a request or the team page does); None otherwise, or without an end."""
        if self.expires_at is None:
            return None
        local = timezone.localtime(self.expires_at)
        return (local - timedelta(days=1)).date() if local.time() == time.min else None


class MatterUserGrant(UserObjectPermissionBase, GrantDetails):
    """A person's grant on one matter (one per person and matter)."""

    content_object = models.ForeignKey(
        "matters.Matter", verbose_name=_("matter"), on_delete=models.CASCADE, related_name="user_grants"
    )

    # guardian's manager (it recognises this table as a direct one) with our reads.
    objects = UserObjectPermissionManager.from_queryset(GrantQuerySet)()

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("matter grant to a person")
        verbose_name_plural = _("matter grants to people")
        # One grant per person and matter (stricter than guardian's per-permission
        # uniqueness, which it replaces); its index serves "my matters".
        unique_together = ()
        constraints = [models.UniqueConstraint(fields=["user", "content_object"], name="one_user_grant_per_matter")]

    def __str__(self) -> str:
        return f"{self.content_object} · {self.user} · {self.level.label}"


class MatterGroupGrant(GroupObjectPermissionBase, GrantDetails):
    """A team's grant on one matter (one per group and matter)."""

    content_object = models.ForeignKey(
        "matters.Matter", verbose_name=_("matter"), on_delete=models.CASCADE, related_name="group_grants"
    )

    objects = GroupObjectPermissionManager.from_queryset(GrantQuerySet)()

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("matter grant to a group")
        verbose_name_plural = _("matter grants to groups")
        unique_together = ()
        constraints = [models.UniqueConstraint(fields=["group", "content_object"], name="one_group_grant_per_matter")]

    def __str__(self) -> str:
        return f"{self.content_object} · {self.group} · {self.level.label}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    LAPSED = "lapsed", _("Lapsed")


class ApprovalCapacity(models.TextChoices):
    """In what capacity someone approved: a highly confidential matter needs both."""

    PARTNER = "partner", _("Responsible partner")
    ADMINISTRATOR = "administrator", _("Administrator")
    SECURITY_OFFICER = "security_officer", _("Security officer")


class AccessRequest(models.Model):
    """A person's request for access to one matter, until someone decides it.

    ``matter`` is None when no matter has the number typed: such a request is
    kept and answered exactly like one for a matter the requester may not see,
    so the answer never tells whether the number exists. ``matter_number`` is
    the number as typed (shown back as typed, for the same reason).
    The status moves only through :data:`access.access_requests.TRANSITIONS`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.CASCADE,
        related_name="access_requests",
    )
    # Someone other than the requester who filed it for them (a partner adding a
    # member to a highly confidential matter's team); that filing is their approval.
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    matter = models.ForeignKey(
        "matters.Matter",
        verbose_name=_("matter"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="access_requests",
    )
    matter_number = models.CharField(_("matter number"), max_length=32)
    level = models.CharField(_("level"), max_length=32, choices=GrantLevel)
    # As long as a grant's reason, which an approved request's becomes.
    reason = models.TextField(_("reason"), max_length=500)
    ends_on = models.DateField(_("access until"))
    renewal = models.BooleanField(_("renewal"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=RequestStatus, default=RequestStatus.PENDING)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_reason = models.CharField(_("reason for the decision"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        ordering = ["-created_at"]
        constraints = [
            # One pending request per person and number: a second is refused by the form,
            # and by the database should two arrive at once.
            models.UniqueConstraint(
                fields=["requester", "matter_number"],
                condition=Q(status="pending"),
                name="one_pending_request_per_number",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="access_request_queue")]

    def __str__(self) -> str:
        return f"{self.matter_number} · {self.requester} · {self.get_status_display()}"

    @property
    def is_pending(self) -> bool:
        return self.status == RequestStatus.PENDING


class AccessApproval(models.Model):
    """One person's approval of a request. A highly confidential matter needs two, by two people."""

    request = models.ForeignKey(
        AccessRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="approvals"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approver"), on_delete=models.PROTECT, related_name="+"
    )
    capacity = models.CharField(_("capacity"), max_length=32, choices=ApprovalCapacity)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("approved at"), default=timezone.now)

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["request", "approver"], name="one_approval_per_person"),
            models.UniqueConstraint(fields=["request", "capacity"], name="one_approval_per_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} · {self.approver} · {self.get_capacity_display()}"


class NotificationKind(models.TextChoices):
    REQUEST_SUBMITTED = "request_submitted", _("Access request to decide")
    REQUEST_NEEDS_SECOND = "request_needs_second", _("Second approval needed")
    REQUEST_APPROVED = "request_approved", _("Access request approved")
    REQUEST_DENIED = "request_denied", _("Access request denied")
    REQUEST_LAPSED = "request_lapsed", _("Access request lapsed")
    GRANT_ADDED = "grant_added", _("Access given")
    GRANT_EXPIRING = "grant_expiring", _("Access ending soon")
    TEAM_GRANT_EXPIRING = "team_grant_expiring", _("A team's access ending soon")
    GRANT_REVOKED = "grant_revoked", _("Access revoked")
    DEPARTURE = "departure", _("Access ended at departure")
    TRAINING_ASSIGNED = "training_assigned", _("Training assigned")
    TRAINING_REMINDER = "training_reminder", _("Training due soon")
    TRAINING_OVERDUE = "training_overdue", _("Training overdue")
    TRAINING_ESCALATION = "training_escalation", _("A colleague's training is overdue")


class Notification(models.Model):
    """Something a person should know, shown in the app and sent by e-mail.

    Stored as a kind and its parameters, not as text, so it is worded in the
    reader's language when shown (``access.notifications``). Parameters name
    matters by number only; free-text reasons appear in the app, never in e-mail.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind)
    params = models.JSONField(_("details"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Set as each e-mail leaves, so a retried batch sends only what had not gone yet.
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "-created_at"], name="notification_inbox")]

    def __str__(self) -> str:
        return f"{self.recipient} · {self.get_kind_display()}"


class UserSession(models.Model):
    """A signed-in session, kept so that a person's sessions can be ended at once.

    Django's session table is keyed by an opaque id and stores the user only
    inside the encoded data; this index avoids decoding every session.
    """

    session_key = models.CharField(_("session key"), max_length=40, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="signed_in_sessions"
    )
    created_at = models.DateTimeField(_("signed in at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("signed-in session")
        verbose_name_plural = _("signed-in sessions")

    def __str__(self) -> str:
        return f"{self.user} · {self.created_at:%Y-%m-%d %H:%M}"


def role_group(role: Role) -> Group:
    group, _created = Group.objects.get_or_create(name=role.value)
    return group
