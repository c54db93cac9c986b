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


class Classification(models.IntegerChoices):
    """Commercial classification (not state-secret terms: see NOTES.md).

    Integers so that "CONFIDENTIAL or above" is a plain comparison in SQL.
    """

    PUBLIC = 10, _("Public")
    INTERNAL = 20, _("Internal")
    CONFIDENTIAL = 30, _("Confidential")
    HIGHLY_CONFIDENTIAL = 40, _("Highly confidential")


class MatterStatus(models.TextChoices):
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


class Client(models.Model):
    """A person or organization the firm acts for."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(_("client code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=ClientKind, default=ClientKind.ORGANIZATION)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

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
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
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

    class Meta:
        verbose_name = _("matter")
        verbose_name_plural = _("matters")
        ordering = ["-opened_on", "number"]
        indexes = [models.Index(fields=["-opened_on", "number"], name="matter_list_order")]
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


class Party(models.Model):
    """A person or organization involved in a matter; the conflict check reads these."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    matter = models.ForeignKey(Matter, verbose_name=_("matter"), on_delete=models.CASCADE, related_name="parties")
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=16, choices=PartyRole)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["role", "name"]

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
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), storage=_document_storage, upload_to=_document_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
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
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

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
