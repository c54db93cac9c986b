"""Break-glass: opening a matter in an emergency, and the security officer's review of it.

A lawyer or partner without access types a matter number and a written reason; they
get a VIEW grant that ends on its own after ``BREAK_GLASS_HOURS`` (expiry is exact:
no job is needed), the security officer is told at once, and the use waits for a
review. Walls still win: the grant is an ordinary one, which the policy screens like
any other, and an exclusionary wall (or an inclusionary one not naming the person)
refuses the emergency outright.

Every refusal that concerns the matter — no such number, closed, highly confidential
(unless the firm allows it), behind a wall — answers the same sentence, so the form
cannot be used to learn whether a number exists or how it is protected; each is
recorded for the security officer. The person's reason is encrypted under the
client's key and never enters an audit event, a grant or a notification.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from access.models import (
    BreakGlassAccess,
    BreakGlassStatus,
    GrantLevel,
    MatterUserGrant,
    NotificationKind,
    Role,
    User,
)
from access.notifications import notify
from access.policy import BROWSING_ROLES, gate_refusal, level_on
from access.services import check_grant, grant_matter_access, revoke_matter_access
from access.walls import screen_of
from audit.actions import AuditAction, Outcome
from audit.events import record_event
from matters.models import Classification, Matter, MatterStatus

# The reason the emergency grant carries: never the person's own words (a grant's reason
# is shown on oversight pages and may reach places the encrypted reason must not).
EMERGENCY_REASON = "Emergency access"
REASON_MIN = 20
REASON_MAX = 1000
NOTE_MAX = 1000
# Why an emergency grant was revoked at its review (recorded with the revocation; a code, not client data).
REVOKED_AT_REVIEW = "ended at the review of emergency access"

# Why a refusal was recorded (for the security officer; the person sees only ``refused_message``).
_NO_SUCH_NUMBER = "no matter has this number"
_CLOSED = "the matter is closed"
_HIGHLY_CONFIDENTIAL = "highly confidential matters may not be opened in an emergency"
_SCREENED = "an ethical wall screens this person from the matter"
_AWAITING_CLEARANCE = "the matter awaits conflict clearance"
_NOT_GRANTABLE = "no grant may be given to this person on this matter (access.services.check_grant)"


def refused_message() -> str:
    """What the person is told for every refusal about the matter: it confirms nothing about it."""
    return _("No matter you may open in an emergency has this number.")


def may_break_glass(user) -> bool:
    """Lawyers and partners with an active account may open a matter in an emergency."""
    return (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and not user.is_departed
        and bool(BROWSING_ROLES & user.role_names())
    )


def is_reviewer(user) -> bool:
    """The security officer (an active one) reviews emergency access."""
    return (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and not user.is_departed
        and user.has_role(Role.SECURITY_OFFICER)
    )


def check_reason(reason: str) -> str:
    """The reason, stripped; ``ValidationError`` (field "reason") when too short or too long."""
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN:
        raise ValidationError(
            {
                "reason": _(
                    "Explain the emergency in at least %(minimum)d characters: the security officer reviews it."
                )
                % {"minimum": REASON_MIN}
            }
        )
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("Keep the reason to at most %(limit)d characters.") % {"limit": REASON_MAX}})
    return reason


def _refusal(user: User, matter: Matter | None) -> str | None:
    """Why ``matter`` may not be opened in an emergency by ``user`` (recorded, never shown), or None."""
    if matter is None:
        return _NO_SUCH_NUMBER
    if matter.status == MatterStatus.CLOSED:
        return _CLOSED
    if matter.status == MatterStatus.INTAKE:
        return _AWAITING_CLEARANCE
    highly_confidential = matter.classification >= Classification.HIGHLY_CONFIDENTIAL
    if highly_confidential and not settings.BREAK_GLASS_ALLOW_HIGHLY_CONFIDENTIAL:
        return _HIGHLY_CONFIDENTIAL
    # Fresh from the database, not the request's memo: the wall may have gone up a moment ago.
    if screen_of(user).covers(matter):
        return _SCREENED
    return None


def _refuse(user: User, number: str, matter: Matter | None, why, message: str | None = None) -> ValidationError:
    """Record the refused attempt (naming the matter when there is one) and return the error to raise."""
    detail = {"requested_number": number}
    if why == _SCREENED:
        detail["screened"] = True  # as the policy marks a screened attempt, for the wall-breach rule
    record_event(AuditAction.BREAK_GLASS, outcome=Outcome.DENIED, target=matter, actor=user, reason=why, detail=detail)
    return ValidationError({"number": message or refused_message()})


def open_in_emergency(*, user: User, number: str, reason: str) -> BreakGlassAccess:
    """Give ``user`` emergency VIEW access to the matter numbered ``number`` for ``BREAK_GLASS_HOURS``.

    ``PermissionDenied``: not a lawyer or partner. ``ValidationError`` per field
    ("number", "reason"): nothing is written then, except the record of a refused attempt.
    """
    if not may_break_glass(user):
        raise PermissionDenied
    reason = check_reason(reason)
    number = (number or "").strip()
    if not number:
        raise ValidationError({"number": _("Enter the matter number.")})
    # A person whose training is overdue (or agreement unsigned) is told so before any number is
    # looked up: answered per matter, it would tell which numbers are confidential matters.
    gate = gate_refusal(user, Classification.CONFIDENTIAL)
    if gate is not None:
        raise _refuse(user, number, None, gate.reason, str(gate.reason))
    matter = Matter.objects.select_related("client").filter(number=number).first()
    # Refusals are recorded outside the transaction below, so that raising keeps them.
    why = _refusal(user, matter)
    if why is not None:
        raise _refuse(user, number, matter, why)
    try:
        # The rules every grant obeys (a lateral hire's pending conflict check, and whatever is
        # added there later): a refusal reads like the others, since its words would describe the matter.
        check_grant(actor=None, user=user, group=None, reason=EMERGENCY_REASON, expires_at=_ends_at(), matter=matter)
    except ValidationError:
        raise _refuse(user, number, matter, _NOT_GRANTABLE) from None
    _check_not_held(user, matter)
    with transaction.atomic():
        # One emergency at a time per person: a second submission waits, then finds the grant.
        User.objects.select_for_update().filter(pk=user.pk).first()
        _check_not_held(user, matter)
        return _open(user, matter, reason)


def _check_not_held(user: User, matter: Matter) -> None:
    if level_on(user, matter) is not None:
        raise ValidationError({"number": _("You already have access to this matter: open it from your matters.")})


def _open(user: User, matter: Matter, reason: str) -> BreakGlassAccess:
    now = timezone.now()
    hours = settings.BREAK_GLASS_HOURS
    expires_at = _ends_at(now)
    # Granted by the system (actor None), on the emergency procedure's behalf: through
    # grant_matter_access, so the grant and its grant.create event are those of any grant.
    # With the person as actor check_grant would refuse it (nobody grants themselves access),
    # and on a HIGHLY CONFIDENTIAL matter — which reaches here only when the firm's setting
    # allows it — it would demand an approved request. Who acted, and why, is recorded just
    # below: the access.break_glass event and the BreakGlassAccess row.
    grant_matter_access(
        actor=None,
        matter=matter,
        level=GrantLevel.VIEW,
        reason=EMERGENCY_REASON,
        user=user,
        expires_at=expires_at,
        emergency=True,
    )
    access = BreakGlassAccess(user=user, matter=matter, reason=reason, started_at=now, expires_at=expires_at)
    access.full_clean()
    access.save()
    record_event(
        AuditAction.BREAK_GLASS,
        target=matter,
        actor=user,
        detail={"break_glass_id": str(access.pk), "hours": hours, "expires_at": expires_at.isoformat()},
    )
    notify(
        [officer for officer in _security_officers() if officer.pk != user.pk],
        NotificationKind.BREAK_GLASS,
        {
            "person": str(user),
            "number": matter.number,
            "until": timezone.localtime(expires_at).isoformat(timespec="minutes"),
        },
        reverse("access:break_glass_review", args=[access.pk]),
    )
    return access


def _ends_at(start=None):
    return (start or timezone.now()) + timedelta(hours=settings.BREAK_GLASS_HOURS)


def _security_officers():
    return User.objects.filter(groups__name=Role.SECURITY_OFFICER.value, is_active=True).distinct()


def _live_emergency_grant(access: BreakGlassAccess) -> MatterUserGrant | None:
    """The grant this emergency gave, if still in force — not a grant given since by other means."""
    return (
        MatterUserGrant.objects.live()
        .filter(
            user_id=access.user_id,
            content_object_id=access.matter_id,
            reason=EMERGENCY_REASON,
            expires_at=access.expires_at,
        )
        .select_related("user", "permission", "content_object__client")
        .first()
    )


def is_live(access: BreakGlassAccess) -> bool:
    return access.expires_at > timezone.now() and _live_emergency_grant(access) is not None


@transaction.atomic
def review_break_glass(
    *, actor: User, access: BreakGlassAccess, outcome: str, note: str = "", revoke: bool = False
) -> BreakGlassAccess:
    """The security officer judges an emergency access justified or not (a note required for
    "not justified"), and may end the access at once. ``PermissionDenied``: not a reviewer."""
    if not is_reviewer(actor):
        raise PermissionDenied
    access = (
        BreakGlassAccess.objects.select_for_update(of=("self",))
        .select_related("user", "matter__client")
        .get(pk=access.pk)
    )
    if access.user_id == actor.pk:
        raise ValidationError(_("You cannot review your own emergency access. Another security officer must."))
    if access.status != BreakGlassStatus.PENDING_REVIEW:
        raise ValidationError(_("This emergency access has already been reviewed."))
    note = _check_review(outcome, note)
    ended = _end_now(access, actor) if revoke else False
    access.status = outcome
    access.reviewed_by = actor
    access.reviewed_at = timezone.now()
    access.review_note = note
    access.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "expires_at"])
    record_event(
        AuditAction.BREAK_GLASS_REVIEW,
        target=access.matter,
        actor=actor,
        detail={
            "break_glass_id": str(access.pk),
            "user_id": access.user_id,
            "user": access.user.get_username(),
            "outcome": outcome,
            "revoked": ended,
        },
    )
    return access


def _check_review(outcome: str, note: str) -> str:
    if outcome not in (BreakGlassStatus.JUSTIFIED, BreakGlassStatus.UNJUSTIFIED):
        raise ValidationError({"outcome": _("Choose justified or not justified.")})
    note = (note or "").strip()
    if outcome == BreakGlassStatus.UNJUSTIFIED and not note:
        raise ValidationError({"note": _("Say why the emergency access was not justified.")})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("Keep the note to at most %(limit)d characters.") % {"limit": NOTE_MAX}})
    return note


def _end_now(access: BreakGlassAccess, actor: User) -> bool:
    """Revoke the emergency grant if still in force; the access then ends now. True if it was live."""
    grant = _live_emergency_grant(access)
    if grant is None:
        return False
    revoke_matter_access(actor=actor, grant=grant, reason=REVOKED_AT_REVIEW)
    access.expires_at = timezone.now()
    notify([access.user], NotificationKind.GRANT_REVOKED, {"number": access.matter.number})
    return True
