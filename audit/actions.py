"""The catalogue of audit actions: what an event says happened.

One place, so the review screen, the SIEM feed (docs/audit.md) and the
detection rules speak of the same things. Later issues add their actions here.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Kind(StrEnum):
    """How an event relates to the request's transaction.

    ``ACCESS`` events (reads, denials, sign-ins) are evidence of an attempt and
    are kept even when the request fails. ``CHANGE`` events describe a change
    and exist exactly when the change does: written in its transaction.
    """

    ACCESS = "access"
    CHANGE = "change"


class AuditAction(models.TextChoices):
    SIGN_IN = "auth.sign_in", pgettext_lazy("audit action", "Signed in")
    SIGN_IN_FAILED = "auth.sign_in_failed", _("Sign-in failed")
    SECOND_FACTOR_FAILED = "auth.second_factor_failed", _("Second factor failed")
    LOCKED_OUT = "auth.locked_out", _("Locked out")
    SIGN_OUT = "auth.sign_out", _("Signed out")
    MATTER_LIST = "matter.list", _("Listed matters")
    MATTER_SEARCH = "matter.search", _("Searched matters")
    MATTER_VIEW = "matter.view", _("Viewed matter")
    DOCUMENT_VIEW = "document.view", _("Viewed document")
    DOCUMENT_DOWNLOAD = "document.download", _("Downloaded document")
    DOCUMENT_UPLOAD = "document.upload", _("Uploaded document")
    GRANT_CREATE = "grant.create", _("Granted access")
    GRANT_REVOKE = "grant.revoke", _("Revoked access")
    AUDIT_EXPORT = "audit.export", _("Exported audit events")
    AUDIT_VIEW = "audit.view", _("Reviewed audit events")
    AUDIT_VERIFY = "audit.verify", _("Verified the audit trail")
    AUDIT_CHECKPOINT_EXPORT = "audit.checkpoint_export", _("Exported audit checkpoints")
    DETECTION_SETTINGS_CHANGE = "audit.detection_settings", _("Changed detection thresholds")
    ALERT_UPDATE = "audit.alert_update", _("Updated an alert")


CHANGE_ACTIONS = frozenset(
    {
        AuditAction.DOCUMENT_UPLOAD,
        AuditAction.GRANT_CREATE,
        AuditAction.GRANT_REVOKE,
        AuditAction.DETECTION_SETTINGS_CHANGE,
        AuditAction.ALERT_UPDATE,
    }
)


def kind_of(action: str) -> Kind:
    return Kind.CHANGE if action in CHANGE_ACTIONS else Kind.ACCESS


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    DENIED = "denied", _("Denied")
    FAILURE = "failure", _("Failure")
