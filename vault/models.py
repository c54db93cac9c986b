"""Data keys, the state of KEK versions, and client key rotations.

Nothing here holds a key in clear: a data key is stored wrapped under a KEK
that lives outside the database (vault.keys).
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _random_key_id() -> int:
    # Random rather than a sequence: the id is part of what the wrap authenticates,
    # so it must be known before the row is written; 63 bits fit a signed bigint.
    return secrets.randbits(63) or 1


def wrap_aad(key_id: int, owner) -> bytes:
    owner_hex = owner.hex if isinstance(owner, uuid.UUID) else uuid.UUID(str(owner)).hex
    return b"custos-dek|%d|%s" % (key_id, owner_hex.encode())


class KeyState(models.TextChoices):
    ACTIVE = "active", _("Active")
    RETIRING = "retiring", _("Retiring")  # decrypts only, while its data is re-encrypted
    RETIRED = "retired", _("Retired")  # nothing uses it; its material is erased
    DESTROYED = "destroyed", _("Destroyed")  # crypto-shredded


class DataKey(models.Model):
    """One client's data key (DEK), wrapped under a KEK version.

    ``owner`` is the client's id: the vault knows owners only as ids, so it
    depends on no other app. A client has at most one active key; rotation
    makes a new one and retires the old once nothing is encrypted under it.
    Destroying every key of an owner is crypto-shredding: ``wrapped`` is
    erased, and what was encrypted under it can no longer be read.
    """

    id = models.BigIntegerField(primary_key=True, default=_random_key_id, editable=False)
    owner = models.UUIDField(_("owner"), db_index=True)
    state = models.CharField(_("state"), max_length=16, choices=KeyState, default=KeyState.ACTIVE)
    kek_version = models.PositiveIntegerField(_("KEK version"), null=True, blank=True)
    wrapped = models.BinaryField(_("wrapped key"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    destroyed_at = models.DateTimeField(_("destroyed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("data key")
        verbose_name_plural = _("data keys")
        constraints = [
            models.UniqueConstraint(fields=["owner"], condition=Q(state="active"), name="vault_one_active_key"),
            models.CheckConstraint(
                condition=Q(state__in=["retired", "destroyed"]) | Q(wrapped__isnull=False, kek_version__isnull=False),
                name="vault_live_key_has_material",
            ),
        ]
        # No index on kek_version: the rewrap walks keys by id, and an index on the column
        # it rewrites would make every one of its updates touch one more index.

    def __str__(self) -> str:
        return f"DEK {self.id} ({self.state})"

    def wrap_aad(self) -> bytes:
        """What a wrapped key is bound to: its own id and owner."""
        return wrap_aad(self.id, self.owner)


class RetiredKek(models.Model):
    """A KEK version no data key is wrapped under any more: it no longer unwraps.

    Recorded when a rewrap completes, so the old key stops working here at
    once, whether or not the operator has removed it from ``VAULT_KEKS`` yet
    (``manage.py rotate_kek --status`` and the client keys screen list the
    versions still configured).
    """

    version = models.PositiveIntegerField(_("KEK version"), primary_key=True)
    retired_at = models.DateTimeField(_("retired at"), default=timezone.now)

    class Meta:
        verbose_name = _("retired KEK version")
        verbose_name_plural = _("retired KEK versions")

    def __str__(self) -> str:
        return f"KEK {self.version}"


class RotationState(models.TextChoices):
    RUNNING = "running", _("Running")
    FINISHING = "finishing", _("Checking for stragglers")
    DONE = "done", _("Done")
    ABANDONED = "abandoned", _("Abandoned")  # the client's keys were destroyed meanwhile


class KeyRotation(models.Model):
    """The re-encryption of one client's data under a new data key.

    Batches commit one at a time and record their position in ``cursor``
    ({model label: last primary key done}), so a stopped rotation resumes where
    it stopped. The old key decrypts only until a final pass finds nothing left
    under it; then it is retired.
    """

    owner = models.UUIDField(_("owner"), db_index=True)
    old_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    new_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=16, choices=RotationState, default=RotationState.RUNNING)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # When the last pass began: the final check waits until every process's key cache has expired.
    finishing_since = models.DateTimeField(null=True, blank=True)
    cursor = models.JSONField(_("position"), default=dict, blank=True)
    rows_total = models.PositiveIntegerField(_("rows to re-encrypt"), default=0)
    rows_done = models.PositiveIntegerField(_("rows re-encrypted"), default=0)
    files_total = models.PositiveIntegerField(_("files to re-encrypt"), default=0)
    files_done = models.PositiveIntegerField(_("files re-encrypted"), default=0)

    class Meta:
        verbose_name = _("key rotation")
        verbose_name_plural = _("key rotations")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=Q(state__in=["running", "finishing"]), name="vault_one_rotation_at_a_time"
            )
        ]

    def __str__(self) -> str:
        return f"rotation {self.pk} ({self.state})"

    @property
    def percent(self) -> int:
        total = self.rows_total + self.files_total
        return 100 if not total else min(100, round(100 * (self.rows_done + self.files_done) / total))
