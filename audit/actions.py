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
    GRANT_RENEW = "grant.renew", _("Renewed access")
    GRANT_EXPIRE = "grant.expire", _("Access expired")
    ACCESS_REQUEST = "access.request", _("Requested access")
    ACCESS_APPROVE = "access.approve", _("Approved an access request")
    ACCESS_DENY = "access.deny", _("Denied an access request")
    ACCESS_WITHDRAW = "access.withdraw", _("Withdrew an access request")
    ACCESS_LAPSE = "access.lapse", _("An access request lapsed")
    ACCESS_OVERVIEW = "access.overview", _("Viewed who holds access")
    TRAINING_COURSE_SAVE = "training.course_save", _("Saved a course")
    TRAINING_ASSIGN = "training.assign", _("Assigned training")
    TRAINING_ATTEMPT = "training.attempt", _("Submitted a quiz")
    TRAINING_COMPLETE = "training.complete", _("Completed a course")
    TRAINING_LAPSE = "training.lapse", _("Training or signature overdue")
    TRAINING_EXPORT = "training.export", _("Exported training records")
    POLICY_PUBLISH = "policy.publish", _("Published an agreement or policy version")
    AGREEMENT_SIGN = "policy.sign", _("Signed an agreement")
    POLICY_ACKNOWLEDGE = "policy.acknowledge", _("Acknowledged a policy")
    WALL_ERECT = "wall.erect", _("Erected an ethical wall")
    WALL_LIFT = "wall.lift", _("Lifted an ethical wall")
    WALL_ACKNOWLEDGE = "wall.acknowledge", _("Acknowledged an ethical wall's memo")
    MATTER_INTAKE = "matter.intake", _("Opened a matter at intake")
    CONFLICT_CHECK = "conflict.check", _("Ran a conflict check")
    CONFLICT_DECIDE = "conflict.decide", _("Decided a conflict check")
    BREAK_GLASS = "access.break_glass", _("Opened a matter in an emergency")
    BREAK_GLASS_REVIEW = "access.break_glass_review", _("Reviewed emergency access")
    REVIEW_START = "review.start", _("Started an access review")
    REVIEW_DECIDE = "review.decide", _("Confirmed or revoked a grant under review")
    REVIEW_CLOSE = "review.close", _("Closed an access review")
    REPORT_ACCESS = "report.access", _("Viewed who could access a matter")
    REPORT_TRANSPARENCY = "report.transparency", _("Viewed who accessed a client's information")
    AUDIT_EXPORT = "audit.export", _("Exported audit events")
    AUDIT_VIEW = "audit.view", _("Reviewed audit events")
    AUDIT_VERIFY = "audit.verify", _("Verified the audit trail")
    AUDIT_CHECKPOINT_EXPORT = "audit.checkpoint_export", _("Exported audit checkpoints")
    DETECTION_SETTINGS_CHANGE = "audit.detection_settings", _("Changed detection thresholds")
    ALERT_UPDATE = "audit.alert_update", _("Updated an alert")
    CLIENT_KEYS_VIEW = "client.keys_view", _("Viewed client keys")
    LEGAL_HOLD_SET = "client.legal_hold_set", _("Placed a client under legal hold")
    LEGAL_HOLD_LIFT = "client.legal_hold_lift", _("Lifted a client's legal hold")
    SHRED_REQUEST = "client.shred_request", _("Requested the destruction of a client's keys")
    SHRED_APPROVE = "client.shred_approve", _("Approved the destruction of a client's keys")
    SHRED_CANCEL = "client.shred_cancel", _("Cancelled the destruction of a client's keys")
    KEYS_DESTROYED = "client.keys_destroyed", _("Destroyed a client's keys")
    CLIENT_KEY_ROTATE = "vault.client_key_rotate", _("Started a client key rotation")
    CLIENT_KEY_ROTATED = "vault.client_key_rotated", _("Finished a client key rotation")
    KEK_REWRAP = "vault.kek_rewrap", _("Rewrapped data keys under a new master key")


CHANGE_ACTIONS = frozenset(
    {
        AuditAction.DOCUMENT_UPLOAD,
        AuditAction.GRANT_CREATE,
        AuditAction.GRANT_REVOKE,
        AuditAction.GRANT_RENEW,
        AuditAction.GRANT_EXPIRE,
        AuditAction.ACCESS_REQUEST,
        AuditAction.ACCESS_APPROVE,
        AuditAction.ACCESS_DENY,
        AuditAction.ACCESS_WITHDRAW,
        AuditAction.ACCESS_LAPSE,
        AuditAction.TRAINING_COURSE_SAVE,
        AuditAction.TRAINING_ASSIGN,
        AuditAction.TRAINING_ATTEMPT,
        AuditAction.TRAINING_COMPLETE,
        AuditAction.TRAINING_LAPSE,
        AuditAction.POLICY_PUBLISH,
        AuditAction.AGREEMENT_SIGN,
        AuditAction.POLICY_ACKNOWLEDGE,
        AuditAction.WALL_ERECT,
        AuditAction.WALL_LIFT,
        AuditAction.WALL_ACKNOWLEDGE,
        AuditAction.MATTER_INTAKE,
        AuditAction.CONFLICT_CHECK,
        AuditAction.CONFLICT_DECIDE,
        AuditAction.BREAK_GLASS,
        AuditAction.BREAK_GLASS_REVIEW,
        AuditAction.REVIEW_START,
        AuditAction.REVIEW_DECIDE,
        AuditAction.REVIEW_CLOSE,
        AuditAction.DETECTION_SETTINGS_CHANGE,
        AuditAction.ALERT_UPDATE,
        AuditAction.LEGAL_HOLD_SET,
        AuditAction.LEGAL_HOLD_LIFT,
        AuditAction.SHRED_REQUEST,
        AuditAction.SHRED_APPROVE,
        AuditAction.SHRED_CANCEL,
        AuditAction.KEYS_DESTROYED,
        AuditAction.CLIENT_KEY_ROTATE,
        AuditAction.CLIENT_KEY_ROTATED,
        AuditAction.KEK_REWRAP,
    }
)


def kind_of(action: str) -> Kind:
    return Kind.CHANGE if action in CHANGE_ACTIONS else Kind.ACCESS


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    DENIED = "denied", _("Denied")
    FAILURE = "failure", _("Failure")
