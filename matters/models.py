"""Clients, matters, parties and documents.

Everything here is client information: it is read only through
:mod:`access.policy`, never listed by a role, and the admin site shows matters
as metadata alone. ``__str__`` of a client or matter is its code or number,
never its name or title, so that a stray ``{{ obj }}`` or log line leaks nothing.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vault.fields import BlindIndexField, EncryptedCharField, EncryptedTextField
from vault.files import EncryptedFileField


class Classification(models.IntegerChoices):
    """Commercial classification (not state-secret terms: see NOTES.md).

    Integers so that "CONFIDENTIAL or above" is a plain comparison in SQL.
    """

    PUBLIC = 10, _("Public")
    INTERNAL = 20, _("Internal")
    CONFIDENTIAL = 30, _("Confidential")
    HIGHLY_CONFIDENTIAL = 40, _("Highly confidential")


class MatterStatus(models.TextChoices):
    # Opened at intake, waiting for the conflicts partner to clear the conflict check.
    INTAKE = "intake", _("Awaiting conflict clearance")
    OPEN = "open", _("Open")
    ON_HOLD = "on_hold", _("On hold")
    CLOSED = "closed", _("Closed")


class PracticeArea(models.TextChoices):
    LITIGATION = "litigation", _("Litigation and arbitration")
    CORPORATE = "corporate", _("Corporate and M&A")
    IP = "ip", _("Intellectual property")
    EMPLOYMENT = "employment", _("Employment")
    FINANCE = "finance", _("Banking and finance")
    REAL_ESTATE = "real_estate", _("Real estate")
    TAX = "tax", _("Tax")
    COMPLIANCE = "compliance", _("Compliance and investigations")


class ClientKind(models.TextChoices):
    ORGANIZATION = "organization", _("Organization")
    INDIVIDUAL = "individual", _("Individual")


class IdentifierType(models.TextChoices):
    NONE = "", _("None recorded")
    ID_CARD = "id_card", _("Resident ID card")
    PASSPORT = "passport", _("Passport")
    USCC = "uscc", _("Unified social credit code")
    OTHER = "other", _("Other identifier")


class Client(models.Model):
    """A person or organization the firm acts for.

    Its name, identifier, contact details and legal-hold reason are encrypted
    under the client's own data key (vault), so destroying that key when the
    retention period has ended destroys them everywhere. Its code is the
    label used wherever a client must be named without being revealed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(_("client code"), max_length=20, unique=True)
    name = EncryptedCharField(_("name"), max_length=200)
    name_index = BlindIndexField(of="name")
    kind = models.CharField(_("kind"), max_length=16, choices=ClientKind, default=ClientKind.ORGANIZATION)
    id_type = models.CharField(_("identifier type"), max_length=16, choices=IdentifierType, blank=True, default="")
    id_number = EncryptedCharField(_("identifier"), max_length=64, blank=True)
    id_number_index = BlindIndexField(of="id_number", kind="identifier")
    contact_name = EncryptedCharField(_("contact person"), max_length=200, blank=True)
    contact_email = EncryptedCharField(_("contact e-mail"), max_length=254, blank=True)
    contact_phone = EncryptedCharField(_("contact telephone"), max_length=64, blank=True)
    address = EncryptedTextField(_("address"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Retention and legal hold: when the client's records may be destroyed, and what stops it.
    retention_until = models.DateField(_("retain until"), null=True, blank=True)
    legal_hold = models.BooleanField(_("legal hold"), default=False)
    legal_hold_reason = EncryptedTextField(_("legal hold reason"), blank=True)
    legal_hold_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    legal_hold_changed_at = models.DateTimeField(_("legal hold changed at"), null=True, blank=True)
    shredded_at = models.DateTimeField(_("keys destroyed at"), null=True, blank=True)

    vault_owner = "pk"

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def audit_target(self) -> dict:
        """What an audit event records about this client: identifiers, never its name."""
        return {"client_id": self.pk, "client_code": self.code}


class Matter(models.Model):
    """A piece of work for a client: the unit that access is granted on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(_("matter number"), max_length=32, unique=True)
    title = EncryptedCharField(_("title"), max_length=200)
    description = EncryptedTextField(_("description"), blank=True)
    notes = EncryptedTextField(_("notes"), blank=True)
    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="matters")
    practice_area = models.CharField(_("practice area"), max_length=32, choices=PracticeArea)
    responsible_partner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible partner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responsible_matters",
    )
    classification = models.PositiveSmallIntegerField(
        _("classification"), choices=Classification, default=Classification.CONFIDENTIAL
    )
    status = models.CharField(_("status"), max_length=16, choices=MatterStatus, default=MatterStatus.OPEN)
    opened_on = models.DateField(_("opened on"), default=timezone.localdate)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    vault_owner = "client_id"

    class Meta:
        verbose_name = _("matter")
        verbose_name_plural = _("matters")
        ordering = ["-opened_on", "number"]
        indexes = [
            models.Index(fields=["-opened_on", "number"], name="matter_list_order"),
            # A wall around a client screens all its matters: the count finds them from this
            # index alone, without reading a matter (bench/README.md, Walls). PostgreSQL only.
            models.Index(fields=["client"], include=["id"], name="matter_client_covering"),
        ]
        # Grant levels beyond Django's view/change (see access.models.GrantLevel).
        permissions = [
            ("download_matter", "Can download the matter's documents"),
            ("manage_matter", "Can manage the matter"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("matters:detail", args=[self.pk])

    def audit_target(self) -> dict:
        """What an audit event records about this matter: its number, never its title."""
        return {
            **self.client.audit_target(),
            "matter_id": self.pk,
            "matter_number": self.number,
            "classification": self.classification,
        }

    def clean(self) -> None:
        if self.closed_on and self.opened_on and self.closed_on < self.opened_on:
            raise ValidationError({"closed_on": _("A matter cannot close before it opened.")})


class PartyRole(models.TextChoices):
    CLIENT = "client", _("Client")
    ADVERSE = "adverse", _("Adverse party")
    RELATED = "related", _("Related party")


class ConflictStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting the conflicts partner")
    CLEARED = "cleared", _("Cleared")
    CLEARED_WITH_WALL = "cleared_with_wall", _("Cleared with an ethical wall")
    REJECTED = "rejected", _("Rejected")


class ConflictCheck(models.Model):
    """A conflict check and its decision: the new matter's client and parties (or a lateral
    hire's prior clients and adversaries) against every existing client and party, by exact
    blind-index match. ``hits`` name matters by number, client code and role — never contents."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The matter at intake; or, for a lawyer joining from another firm, the person.
    matter = models.ForeignKey(
        Matter,
        verbose_name=_("matter"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conflict_checks",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lateral hire"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conflict_checks",
    )
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("run by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    run_at = models.DateTimeField(_("run at"), default=timezone.now)
    # [{"matter_id", "matter_number", "client_code", "role", "matched": "name" | "identifier", "searched": label}]
    hits = models.JSONField(_("hits"), default=list, blank=True)
    # The clients whose matters the hits name. While a lateral hire's check is pending, it
    # screens them from these clients' matters as a wall would (access.walls.screen_of).
    hit_clients = models.ManyToManyField(Client, verbose_name=_("clients found"), blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=ConflictStatus, default=ConflictStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("conflict check")
        verbose_name_plural = _("conflict checks")
        ordering = ["-run_at"]

    def __str__(self) -> str:
        return f"{self.matter or self.person} · {self.get_status_display()}"


class PriorEngagement(models.Model):
    """A client or adverse party a lateral hire acted for or against at their former firm.

    Only blind indexes are kept: the names belong to another firm's clients, and the
    conflict check needs nothing but an exact match. HR sees each entry by its role and
    the label they chose (e.g. "prior client 3")."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="prior_engagements"
    )
    label = models.CharField(_("label"), max_length=60)
    role = models.CharField(_("role"), max_length=16, choices=PartyRole)
    name_index = models.CharField(max_length=32, blank=True, db_index=True)
    id_number_index = models.CharField(max_length=32, blank=True, db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("prior engagement")
        verbose_name_plural = _("prior engagements")
        ordering = ["person", "pk"]

    def __str__(self) -> str:
        return f"{self.person} · {self.label}"


class ClientAlias(models.Model):
    """Another name or identifier a client is known by (a former name, a subsidiary): the conflict
    check matches it as it matches the client's own."""

    # A UUID, set before saving: the encrypted name is bound to its row's primary key.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="aliases")
    name = EncryptedCharField(_("name"), max_length=200)
    name_index = BlindIndexField(of="name")

    vault_owner = "client_id"

    class Meta:
        verbose_name = _("client alias")
        verbose_name_plural = _("client aliases")

    def __str__(self) -> str:
        return f"{self.client} alias"


class Party(models.Model):
    """A person or organization involved in a matter; the conflict check reads these."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    matter = models.ForeignKey(Matter, verbose_name=_("matter"), on_delete=models.CASCADE, related_name="parties")
    name = EncryptedCharField(_("name"), max_length=200)
    name_index = BlindIndexField(of="name")
    role = models.CharField(_("role"), max_length=16, choices=PartyRole)
    id_type = models.CharField(_("identifier type"), max_length=16, choices=IdentifierType, blank=True, default="")
    id_number = EncryptedCharField(_("identifier"), max_length=64, blank=True)
    id_number_index = BlindIndexField(of="id_number", kind="identifier")

    vault_owner = "matter__client_id"

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["role", "id"]  # names are encrypted: the database cannot sort by them

    def __str__(self) -> str:
        return f"{self.get_role_display()} ({self.matter})"


def _document_storage():
    return storages["documents"]


def _document_path(instance: Document, filename: str) -> str:
    # The stored name carries no part of the client's file name.
    return f"{instance.matter_id}/{instance.id}"


class Document(models.Model):
    """A file filed on a matter, with its fingerprint and who added it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    matter = models.ForeignKey(Matter, verbose_name=_("matter"), on_delete=models.CASCADE, related_name="documents")
    title = EncryptedCharField(_("title"), max_length=200)
    file = EncryptedFileField(_("file"), storage=_document_storage, upload_to=_document_path, max_length=200)
    original_name = EncryptedCharField(_("file name"), max_length=255)
    classification = models.PositiveSmallIntegerField(_("classification"), choices=Classification)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="uploaded_documents",
    )
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=100)
    # Encrypted too: a clear hash would let anyone holding a copy of a file confirm the
    # firm had it, even after the client's key is destroyed.
    sha256 = EncryptedCharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    vault_owner = "matter__client_id"

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.id)

    def audit_target(self) -> dict:
        """What an audit event records about this document: ids and classification, never title or name."""
        return {**self.matter.audit_target(), "document_id": self.pk, "classification": self.classification}

    def clean(self) -> None:
        if self.matter_id and self.classification is not None and self.classification < self.matter.classification:
            raise ValidationError(
                {
                    "classification": _("A document cannot be classified below its matter (%(level)s).")
                    % {"level": self.matter.get_classification_display()}
                }
            )


class ShreddingStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting a second approval")
    DONE = "done", _("Destroyed")
    CANCELLED = "cancelled", _("Cancelled")


class ClientShredding(models.Model):
    """A request to destroy a client's keys, and the two people who approved it.

    Whoever requests approves first; a second, different person must approve
    before anything is destroyed. Holds no client information, so it outlives
    the keys as the record of who destroyed what and when.
    """

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="shreddings")
    status = models.CharField(_("status"), max_length=16, choices=ShreddingStatus, default=ShreddingStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    keys_destroyed = models.PositiveIntegerField(_("keys destroyed"), default=0)
    files_deleted = models.PositiveIntegerField(_("files deleted"), default=0)

    class Meta:
        verbose_name = _("client shredding")
        verbose_name_plural = _("client shreddings")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"], condition=models.Q(status="pending"), name="matters_one_pending_shredding"
            )
        ]

    def __str__(self) -> str:
        return f"shredding of {self.client}"
