"""Access requests: asking for a matter, approving, denying, withdrawing, lapsing.

A request names a matter by number. For a matter the requester may not see —
CONFIDENTIAL and above without a grant — and for a number no matter has, every
answer is the same (validation, confirmation, the list of one's requests), so
asking never tells whether a number exists. Nobody decides their own request;
a HIGHLY CONFIDENTIAL matter needs two approvals by two people: the responsible
partner's (an administrator's when there is none to ask) and the security officer's.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from access.models import (
    AccessApproval,
    AccessRequest,
    ApprovalCapacity,
    GrantLevel,
    MatterUserGrant,
    NotificationKind,
    RequestStatus,
    Role,
    User,
)
from access.notifications import notify
from access.policy import screen_for
from access.walls import screened_matter_ids
from audit.actions import AuditAction
from audit.events import record_event
from matters.models import Classification, Matter

# A decided request is final; only a pending one moves (see transition_to).
TRANSITIONS: dict[str, set[str]] = {
    RequestStatus.PENDING: {
        RequestStatus.APPROVED,
        RequestStatus.DENIED,
        RequestStatus.WITHDRAWN,
        RequestStatus.LAPSED,
    },
}

# What a request may ask for: managing a matter is given by its partner, not requested.
REQUESTABLE_LEVELS = (GrantLevel.VIEW, GrantLevel.DOWNLOAD, GrantLevel.EDIT)

# The longest reason or note (the columns of requests, decisions and grants).
REASON_LIMIT = 500

# The two sides of a highly confidential approval.
_PARTNER_SIDE = {ApprovalCapacity.PARTNER, ApprovalCapacity.ADMINISTRATOR}


def max_days(classification: int | None) -> int:
    """The longest grant a request may ask for. ``None``: a matter the requester may not
    see (or no matter at all) — the strictest limit, which tells nothing about it."""
    if classification is None:
        return min(settings.ACCESS_MAX_DAYS.values())
    return settings.ACCESS_MAX_DAYS[int(classification)]


def expires_at_for(ends_on: date) -> datetime:
    """Access "until" a date lasts to the end of that day, in the firm's time zone."""
    return timezone.make_aware(datetime.combine(ends_on + timedelta(days=1), time.min))


def default_end(today: date | None = None) -> date:
    return (today or timezone.localdate()) + timedelta(days=settings.ACCESS_DEFAULT_DAYS)


def is_eligible(user: User | None) -> bool:
    return user is not None and user.is_active and not user.is_departed


def known_to(user: User, matter: Matter | None) -> bool:
    """May ``user`` learn that this matter exists (its number, its classification)?"""
    from access.policy import level_on

    if matter is None:
        return False
    return matter.classification < Classification.CONFIDENTIAL or level_on(user, matter) is not None


def _live_grant(user: User, matter: Matter) -> MatterUserGrant | None:
    return MatterUserGrant.objects.live().filter(user=user, content_object=matter).select_related("permission").first()


def request_access(
    *,
    actor: User,
    number: str,
    level: GrantLevel | str,
    reason: str,
    ends_on: date,
    requester: User | None = None,
    announce: bool = True,
) -> AccessRequest:
    """Ask for access to the matter numbered ``number`` (for ``requester``; default the actor).

    Raises ``ValidationError`` per field; nothing is written then. ``announce=False``:
    the approvers are not told (the filer approves at once, which tells whoever is still needed).
    """
    requester = requester or actor
    number = (number or "").strip()
    matter = Matter.objects.select_related("client", "responsible_partner").filter(number=number).first()
    known = known_to(requester, matter)
    _check_request(requester, number, level, reason, ends_on, matter if known else None)
    held = _live_grant(requester, matter) if known else None
    try:
        with transaction.atomic():
            access_request = AccessRequest.objects.create(
                requester=requester,
                filed_by=actor if actor.pk != requester.pk else None,
                matter=matter,
                matter_number=number,
                level=GrantLevel(level),
                reason=reason.strip(),
                ends_on=ends_on,
                # Asking again for what one holds, to keep it longer; asking for more is not a renewal.
                renewal=_covers(held, level),
            )
            record_request_event(AuditAction.ACCESS_REQUEST, access_request, actor=actor, known=matter is not None)
            if announce:
                announce_request(access_request, filer=actor)
    except IntegrityError:
        # Two submissions at once: the database kept one.
        raise ValidationError({"number": _duplicate_message()}) from None
    return access_request


def announce_request(access_request: AccessRequest, *, filer: User) -> None:
    """Tell those who may decide that a request waits for them (not whoever filed it)."""
    notify(
        [person for person in approvers_for(access_request) if person.pk != filer.pk],
        NotificationKind.REQUEST_SUBMITTED,
        {
            "requester": str(access_request.requester),
            "number": access_request.matter_number,
            "level": access_request.level,
        },
        reverse("access:approvals"),
    )


def _duplicate_message() -> str:
    return _("You already have a pending request for this matter number. Wait for its decision or withdraw it.")


def _check_request(requester, number, level, reason, ends_on, known_matter: Matter | None) -> None:
    errors: dict[str, str] = {}
    today = timezone.localdate()
    if not is_eligible(requester):
        errors["requester"] = _("Access cannot be requested for an inactive or departed account.")
    if not number:
        errors["number"] = _("Enter the matter number.")
    elif AccessRequest.objects.filter(requester=requester, matter_number=number, status=RequestStatus.PENDING).exists():
        errors["number"] = _duplicate_message()
    if level not in {lvl.value for lvl in REQUESTABLE_LEVELS}:
        errors["level"] = _("Choose view, download or edit.")
    if not (reason or "").strip():
        errors["reason"] = _("Say why you need access: the approvers decide on it.")
    elif len(reason.strip()) > REASON_LIMIT:
        errors["reason"] = _("Keep the reason to at most %(limit)d characters.") % {"limit": REASON_LIMIT}
    if ends_on is None:
        errors["ends_on"] = _("Enter the date access should end.")
    elif ends_on < today:
        errors["ends_on"] = _("The end date is in the past.")
    else:
        limit = max_days(known_matter.classification if known_matter else None)
        if (ends_on - today).days > limit:
            errors["ends_on"] = _("Access may be requested for at most %(days)d days, until %(date)s.") % {
                "days": limit,
                "date": (today + timedelta(days=limit)).isoformat(),
            }
    if known_matter is not None and "level" not in errors and "ends_on" not in errors:
        conflict = _conflict_with_held(_live_grant(requester, known_matter), level, ends_on)
        if conflict == "held":
            errors["number"] = _("You already hold this access to this matter, for at least as long.")
        elif conflict == "open-ended":
            errors["level"] = _(
                "You hold access to this matter with no end date: ask its partner to change your level instead."
            )
        elif conflict is not None:
            errors["ends_on"] = _(
                "You hold access to this matter until %(date)s: choose an end date no earlier than that."
            ) % {"date": conflict}
    if errors:
        raise ValidationError(errors)


def _covers(held: MatterUserGrant | None, level: GrantLevel | str) -> bool:
    return held is not None and held.level.value in GrantLevel.at_least(GrantLevel(level))


def _lasts_until(held: MatterUserGrant, ends_on: date) -> bool:
    return held.expires_at is None or held.expires_at >= expires_at_for(ends_on)


def _conflict_with_held(held: MatterUserGrant | None, level, ends_on: date) -> str | None:
    """Why granting (``level`` until ``ends_on``) would be pointless or would cut access short:
    "held" — what is held already covers it; a date — the person holds a lower level longer
    than asked, and one grant per person and matter cannot hold both. None: no conflict."""
    if held is None:
        return None
    if _covers(held, level):
        return "held" if _lasts_until(held, ends_on) else None
    if _lasts_until(held, ends_on) and held.expires_at is not None:
        last_day = timezone.localdate(held.expires_at - timedelta(microseconds=1))
        return last_day.isoformat() if last_day > ends_on else None
    if held.expires_at is None:
        return "open-ended"
    return None


# --- who decides -------------------------------------------------------------------------------


def _role_members(role: Role) -> QuerySet[User]:
    return User.objects.filter(groups__name=role.value, is_active=True).distinct()


def _partner_to_ask(access_request: AccessRequest) -> User | None:
    """The responsible partner, if there is one who may decide this request."""
    partner = access_request.matter.responsible_partner if access_request.matter else None
    if partner is None or partner.pk == access_request.requester_id or not is_eligible(partner):
        return None
    if screen_for(partner).covers(access_request.matter):
        return None  # an ethical wall screens them from their own matter: the administrators decide
    return partner


def capacities(actor: User, access_request: AccessRequest) -> set[ApprovalCapacity]:
    """In what capacities ``actor`` may decide ``access_request`` (empty: not theirs to decide)."""
    if not is_eligible(actor) or actor.pk == access_request.requester_id:
        return set()
    if access_request.matter is not None and screen_for(actor).covers(access_request.matter):
        # An ethical wall screens them from the matter: its requests (their reasons may name
        # the client) are not theirs to read or decide, in any capacity.
        return set()
    held = set()
    if actor.has_role(Role.ADMINISTRATOR):
        held.add(ApprovalCapacity.ADMINISTRATOR)
    matter = access_request.matter
    if matter is None:
        return held
    if matter.responsible_partner_id == actor.pk:
        held.add(ApprovalCapacity.PARTNER)
    if matter.classification >= Classification.HIGHLY_CONFIDENTIAL and actor.has_role(Role.SECURITY_OFFICER):
        held.add(ApprovalCapacity.SECURITY_OFFICER)
    return held


def approvers_for(access_request: AccessRequest) -> list[User]:
    """Who is told of a new request: its partner and the administrators; for a highly
    confidential matter its partner (administrators only when there is none to ask) and
    the security officer — never the requester."""
    partner = _partner_to_ask(access_request)
    people = [partner] if partner is not None else []
    if partner is None or not needs_two(access_request):
        people.extend(_role_members(Role.ADMINISTRATOR))
    if needs_two(access_request):
        people.extend(_role_members(Role.SECURITY_OFFICER))
    return [
        person
        for person in people
        if person.pk != access_request.requester_id
        and not person.is_departed
        and not (access_request.matter and screen_for(person).covers(access_request.matter))
    ]


def pending_for(actor: User) -> QuerySet[AccessRequest]:
    """The approval queue: pending requests ``actor`` may decide, oldest first."""
    if not is_eligible(actor):
        return AccessRequest.objects.none()
    mine = Q(matter__responsible_partner=actor)
    if actor.has_role(Role.ADMINISTRATOR):
        mine |= Q(pk__isnull=False)
    if actor.has_role(Role.SECURITY_OFFICER):
        mine |= Q(matter__classification__gte=Classification.HIGHLY_CONFIDENTIAL)
    return (
        AccessRequest.objects.filter(mine, status=RequestStatus.PENDING)
        .exclude(requester=actor)
        # Not the matters an ethical wall screens the actor from, whoever they are: the screen is
        # read inside this statement (the queue's count is on every page).
        .exclude(matter_id__in=screened_matter_ids(actor))
        .select_related("requester", "filed_by", "matter__client", "matter__responsible_partner")
        .prefetch_related("approvals__approver")
        .order_by("created_at")
    )


def needs_two(access_request: AccessRequest) -> bool:
    matter = access_request.matter
    return matter is not None and matter.classification >= Classification.HIGHLY_CONFIDENTIAL


def missing_capacities(access_request: AccessRequest) -> list[str]:
    """What the request still waits for: "partner" and/or "security_officer" (or one approval)."""
    given = {approval.capacity for approval in access_request.approvals.all()}
    if not needs_two(access_request):
        return [] if given else ["partner"]
    missing = []
    if not given & _PARTNER_SIDE:
        missing.append("partner")
    if ApprovalCapacity.SECURITY_OFFICER not in given:
        missing.append("security_officer")
    return missing


# --- deciding ---------------------------------------------------------------------------------


def transition_to(
    access_request: AccessRequest, status: RequestStatus, *, actor: User | None, reason: str = ""
) -> None:
    """Move a request to ``status``, or raise ``ValidationError`` if it has already moved."""
    if status not in TRANSITIONS.get(access_request.status, set()):
        raise ValidationError(_("This request has already been decided."))
    access_request.status = status
    access_request.decided_at = timezone.now()
    access_request.decided_by = actor
    access_request.decision_reason = reason.strip()[:REASON_LIMIT]
    access_request.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])


def _locked(access_request: AccessRequest) -> AccessRequest:
    return (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("requester", "matter__client", "matter__responsible_partner")
        .get(pk=access_request.pk)
    )


@transaction.atomic
def approve_access_request(*, actor: User, access_request: AccessRequest, note: str = "") -> AccessRequest:
    """Approve; the last approval needed creates the grant.

    ``PermissionDenied``: not ``actor``'s to decide. ``ValidationError``: why this
    approval cannot be given (already decided, their own, the same person twice,
    not the approval still missing, an end date that has passed…).
    """
    access_request = _locked(access_request)
    if actor.pk == access_request.requester_id:
        raise ValidationError(_("You cannot approve your own request."))
    held = capacities(actor, access_request)
    if not held:
        raise PermissionDenied
    if not access_request.is_pending:
        raise ValidationError(_("This request has already been decided."))
    if access_request.matter is None:
        raise ValidationError(_("No matter has this number: the request can only be denied."))
    if access_request.approvals.filter(approver=actor).exists():
        raise ValidationError(_("You have already approved this request. A second person must approve it."))
    _check_still_grantable(access_request)
    capacity = _capacity_to_give(access_request, actor, held)
    AccessApproval.objects.create(
        request=access_request, approver=actor, capacity=capacity, note=note.strip()[:REASON_LIMIT]
    )
    missing = missing_capacities(access_request)
    record_request_event(
        AuditAction.ACCESS_APPROVE, access_request, actor=actor, capacity=capacity, complete=not missing
    )
    if missing:
        waiting = [_partner_to_ask(access_request)] if "partner" in missing else []
        if "partner" in missing and waiting == [None]:
            waiting = list(_role_members(Role.ADMINISTRATOR))
        if "security_officer" in missing:
            waiting += list(_role_members(Role.SECURITY_OFFICER))
        notify(
            [
                person
                for person in waiting
                if person is not None and person.pk not in (actor.pk, access_request.requester_id)
            ],
            NotificationKind.REQUEST_NEEDS_SECOND,
            {
                "approver": str(actor),
                "requester": str(access_request.requester),
                "number": access_request.matter_number,
            },
            reverse("access:approvals"),
        )
        return access_request
    _grant_requested_access(access_request, actor=actor, note=note)
    return access_request


def partner_side_capacity(actor: User, access_request: AccessRequest) -> ApprovalCapacity | None:
    """The capacity in which ``actor`` gives the partner's side of an approval, or None.

    An administrator approves an ordinary request, and stands in for the partner
    on a highly confidential one only when there is no partner to ask.
    """
    held = capacities(actor, access_request)
    if ApprovalCapacity.PARTNER in held:
        return ApprovalCapacity.PARTNER
    stands_in = not needs_two(access_request) or _partner_to_ask(access_request) is None
    if ApprovalCapacity.ADMINISTRATOR in held and stands_in:
        return ApprovalCapacity.ADMINISTRATOR
    return None


def _capacity_to_give(access_request: AccessRequest, actor: User, held: set[ApprovalCapacity]) -> ApprovalCapacity:
    missing = missing_capacities(access_request)
    partner_side = partner_side_capacity(actor, access_request)
    # The partner's side first: a partner who is also a security officer is the only one
    # who can give it, while any other security officer can give the other.
    if "partner" in missing and partner_side is not None:
        return partner_side
    if "security_officer" in missing and ApprovalCapacity.SECURITY_OFFICER in held:
        return ApprovalCapacity.SECURITY_OFFICER
    if needs_two(access_request):
        raise ValidationError(
            _(
                "A highly confidential matter needs the approval of its responsible partner and of the "
                "security officer, two different people. Yours is not the approval still missing."
            )
        )
    raise PermissionDenied


def _check_still_grantable(access_request: AccessRequest) -> None:
    if not is_eligible(access_request.requester):
        raise ValidationError(_("The requester's account is inactive or departed: deny the request."))
    today = timezone.localdate()
    if access_request.ends_on < today:
        raise ValidationError(_("The requested end date has passed: deny the request; the requester may ask again."))
    limit = max_days(access_request.matter.classification)
    if (access_request.ends_on - today).days > limit:
        raise ValidationError(
            _("The requested period is longer than this matter's classification now allows (%(days)d days): deny it.")
            % {"days": limit}
        )
    conflict = _conflict_with_held(
        _live_grant(access_request.requester, access_request.matter), access_request.level, access_request.ends_on
    )
    if conflict == "held":
        raise ValidationError(
            _("%(person)s already holds this access, for at least as long: deny the request, saying so.")
            % {"person": access_request.requester}
        )
    if conflict is not None:
        raise ValidationError(
            _(
                "%(person)s holds a lower level for longer than this request asks; approving would end their "
                "current access early. Deny it; they may ask again with an end date no earlier than their current one."
            )
            % {"person": access_request.requester}
        )


def _grant_requested_access(access_request: AccessRequest, *, actor: User, note: str) -> None:
    from access.services import grant_matter_access

    matter, requester = access_request.matter, access_request.requester
    level = GrantLevel(access_request.level)
    held = _live_grant(requester, matter)
    if held is not None and held.level.value in GrantLevel.at_least(level):
        level = held.level  # a renewal never lowers what the person holds
    grant_matter_access(
        actor=actor,
        matter=matter,
        level=level,
        reason=access_request.reason,
        user=requester,
        expires_at=expires_at_for(access_request.ends_on),
        request=access_request,
    )
    transition_to(access_request, RequestStatus.APPROVED, actor=actor, reason=note)
    notify(
        [requester],
        NotificationKind.REQUEST_APPROVED,
        {"number": access_request.matter_number, "level": level.value, "until": access_request.ends_on.isoformat()},
        matter.get_absolute_url(),
    )


@transaction.atomic
def deny_access_request(*, actor: User, access_request: AccessRequest, reason: str) -> AccessRequest:
    """Deny with a reason the requester is shown (in the app; e-mail says only that it was denied)."""
    access_request = _locked(access_request)
    if actor.pk == access_request.requester_id:
        raise ValidationError(_("You cannot decide your own request. Withdraw it instead."))
    if not capacities(actor, access_request):
        raise PermissionDenied
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the request is denied: the requester is told.")})
    if len(reason.strip()) > REASON_LIMIT:
        too_long = _("Keep the reason to at most %(limit)d characters.") % {"limit": REASON_LIMIT}
        raise ValidationError({"reason": too_long})
    transition_to(access_request, RequestStatus.DENIED, actor=actor, reason=reason)
    record_request_event(AuditAction.ACCESS_DENY, access_request, actor=actor)
    notify(
        [access_request.requester],
        NotificationKind.REQUEST_DENIED,
        {"number": access_request.matter_number, "reason": access_request.decision_reason},
        reverse("access:my_requests"),
    )
    return access_request


@transaction.atomic
def withdraw_access_request(*, actor: User, access_request: AccessRequest) -> AccessRequest:
    """The requester (or whoever filed it for them) takes a pending request back."""
    access_request = _locked(access_request)
    if actor.pk not in (access_request.requester_id, access_request.filed_by_id):
        raise PermissionDenied
    transition_to(access_request, RequestStatus.WITHDRAWN, actor=actor)
    record_request_event(AuditAction.ACCESS_WITHDRAW, access_request, actor=actor)
    return access_request


def record_request_event(action: AuditAction, access_request: AccessRequest, *, actor: User | None, **facts) -> None:
    """The request's event: number, level, dates and who — never its free-text reason."""
    detail = {
        "request_id": str(access_request.pk),
        "requester_id": access_request.requester_id,
        "requester": access_request.requester.get_username(),
        "number": access_request.matter_number,
        "level": access_request.level,
        "ends_on": access_request.ends_on.isoformat(),
        "renewal": access_request.renewal,
        **facts,
    }
    record_event(action, target=access_request.matter, actor=actor, detail=detail)
