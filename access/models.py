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

from vault.fields import EncryptedTextField


class Role(models.TextChoices):
    """A role is a group with one of these names; a user may hold several."""

    LAWYER = "lawyer", _("Lawyer")
    PARTNER = "partner", _("Partner")
    SECURITY_OFFICER = "security_officer", _("Security officer")
    HR = "hr", _("HR")
    ADMINISTRATOR = "administrator", _("Administrator")
    VENDOR = "vendor", _("Vendor")
    # Clears conflict checks at intake and erects ethical walls (with the security officer).
    CONFLICTS = "conflicts", _("Conflicts partner")


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
    WALL_MEMO = "wall_memo", _("Ethical wall: memo to acknowledge")
    WALL_REVOKED = "wall_revoked", _("Access revoked by an ethical wall")
    BREAK_GLASS = "break_glass", _("Emergency access used")
    REVIEW_ASSIGNED = "review_assigned", _("Access to recertify")


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


class WallKind(models.TextChoices):
    EXCLUSIONARY = "exclusionary", _("Exclusionary: the named people can never access")
    INCLUSIONARY = "inclusionary", _("Inclusionary: only the named people can access")


class WallQuerySet(models.QuerySet):
    def live(self):
        return self.filter(lifted_at__isnull=True)


class EthicalWall(models.Model):
    """A screen around one matter, or around every matter of a client (``matter`` empty).

    Exclusionary: the named people and groups can never access those matters, whatever
    grant, team or role they hold. Inclusionary: only they can. The policy
    (``access.policy``) applies walls after grants, so a wall always wins. Lifted walls
    are kept: "who could access matter X at time T" reads their history.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=WallKind)
    client = models.ForeignKey(
        "matters.Client", verbose_name=_("client"), on_delete=models.CASCADE, related_name="walls"
    )
    matter = models.ForeignKey(
        "matters.Matter",
        verbose_name=_("matter"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="walls",
        help_text=_("Empty: every matter of the client, present and future."),
    )
    # Both may name the client or the conflict: encrypted under the client's key.
    reason = EncryptedTextField(_("reason"))
    memo = EncryptedTextField(_("memo to the people named"))
    requires_acknowledgement = models.BooleanField(
        _("members must acknowledge the memo before opening the matters"), default=False
    )
    erected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("erected by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    erected_at = models.DateTimeField(_("erected at"), default=timezone.now)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lifted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lift_reason = EncryptedTextField(_("reason for lifting"), blank=True)
    # What erecting the wall revoked: [{"user_id" | "group_id", "matter_id", "matter_number", "level"}].
    revoked_grants = models.JSONField(_("grants revoked"), default=list, blank=True)
    conflict_check = models.ForeignKey(
        "matters.ConflictCheck",
        verbose_name=_("conflict check"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="walls",
    )

    objects = WallQuerySet.as_manager()

    vault_owner = "client_id"

    class Meta:
        verbose_name = _("ethical wall")
        verbose_name_plural = _("ethical walls")
        ordering = ["-erected_at"]
        indexes = [
            models.Index(fields=["matter"], condition=Q(lifted_at__isnull=True), name="live_wall_matter"),
            models.Index(fields=["client"], condition=Q(lifted_at__isnull=True), name="live_wall_client"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.matter or self.client}"

    @property
    def is_live(self) -> bool:
        return self.lifted_at is None

    def audit_target(self) -> dict:
        return self.matter.audit_target() if self.matter_id else self.client.audit_target()


class WallMember(models.Model):
    """A person or a group a wall names: screened out (exclusionary) or let in (inclusionary)."""

    wall = models.ForeignKey(EthicalWall, verbose_name=_("wall"), on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="wall_memberships",
    )
    group = models.ForeignKey(
        Group, verbose_name=_("group"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("person or group named by a wall")
        verbose_name_plural = _("people and groups named by walls")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True) | Q(user__isnull=True, group__isnull=False),
                name="wall_member_is_a_person_or_a_group",
            ),
            models.UniqueConstraint(fields=["wall", "user"], name="one_wall_member_per_person"),
            models.UniqueConstraint(fields=["wall", "group"], name="one_wall_member_per_group"),
        ]

    def __str__(self) -> str:
        return str(self.user or self.group)


class WallAcknowledgement(models.Model):
    """That a person read a wall's memo and acknowledged it (members of a group each acknowledge)."""

    wall = models.ForeignKey(
        EthicalWall, verbose_name=_("wall"), on_delete=models.CASCADE, related_name="acknowledgements"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), default=timezone.now)

    class Meta:
        verbose_name = _("wall acknowledgement")
        verbose_name_plural = _("wall acknowledgements")
        constraints = [models.UniqueConstraint(fields=["wall", "user"], name="one_acknowledgement_per_person")]

    def __str__(self) -> str:
        return f"{self.user} · {self.wall}"


class BreakGlassStatus(models.TextChoices):
    PENDING_REVIEW = "pending", _("To review")
    JUSTIFIED = "justified", _("Justified")
    UNJUSTIFIED = "unjustified", _("Not justified")


class BreakGlassAccess(models.Model):
    """Emergency access to a matter without a grant: a written reason, a few hours of
    view access (a grant that ends on its own), an alert to the security officer at
    once, and a review afterwards. Never through an exclusionary wall."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="break_glass"
    )
    matter = models.ForeignKey(
        "matters.Matter", verbose_name=_("matter"), on_delete=models.CASCADE, related_name="break_glass"
    )
    reason = EncryptedTextField(_("reason"))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    expires_at = models.DateTimeField(_("ends at"))
    status = models.CharField(
        _("review"), max_length=16, choices=BreakGlassStatus, default=BreakGlassStatus.PENDING_REVIEW
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = EncryptedTextField(_("review note"), blank=True)

    vault_owner = "matter__client_id"

    class Meta:
        verbose_name = _("emergency access")
        verbose_name_plural = _("emergency accesses")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.user} · {self.matter}"

    def audit_target(self) -> dict:
        return self.matter.audit_target()


class ReviewDecision(models.TextChoices):
    PENDING = "pending", _("To decide")
    CONFIRMED = "confirmed", _("Confirmed")
    REVOKED = "revoked", _("Revoked")
    UNANSWERED = "unanswered", _("Revoked: not confirmed in time")
    GONE = "gone", _("Ended before the review")


class AccessReviewCampaign(models.Model):
    """A recertification: every responsible partner confirms or revokes the grants on their
    matters by ``closes_on``; what is left unconfirmed is revoked when the campaign closes."""

    name = models.CharField(_("name"), max_length=100)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    closes_on = models.DateField(_("closes on"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("access review")
        verbose_name_plural = _("access reviews")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.name


class AccessReviewItem(models.Model):
    """One grant under review: who holds it, on which matter, which partner decides, and the decision."""

    campaign = models.ForeignKey(
        AccessReviewCampaign, verbose_name=_("access review"), on_delete=models.CASCADE, related_name="items"
    )
    matter = models.ForeignKey(
        "matters.Matter", verbose_name=_("matter"), on_delete=models.CASCADE, related_name="review_items"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    group = models.ForeignKey(
        Group, verbose_name=_("group"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    level = models.CharField(_("level"), max_length=32, choices=GrantLevel)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="review_items",
    )
    decision = models.CharField(_("decision"), max_length=16, choices=ReviewDecision, default=ReviewDecision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("grant under review")
        verbose_name_plural = _("grants under review")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True) | Q(user__isnull=True, group__isnull=False),
                name="review_item_is_a_person_or_a_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.group} · {self.matter}"


def role_group(role: Role) -> Group:
    group, _created = Group.objects.get_or_create(name=role.value)
    return group
