"""State-changing operations on people, roles and grants (one function each)."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import (
    AccessRequest,
    EmploymentStatus,
    GrantLevel,
    MatterGroupGrant,
    MatterUserGrant,
    NotificationKind,
    Role,
    User,
    UserSession,
)
from access.notifications import notify
from access.walls import screen_of
from audit.actions import AuditAction
from audit.events import record_event
from matters.models import Classification, ConflictCheck, ConflictStatus, Matter, MatterStatus

# What each role may do in the admin site (Django model permissions, not matter
# access: no role reads a matter without a grant).
ROLE_MODEL_PERMISSIONS: dict[Role, list[str]] = {
    Role.ADMINISTRATOR: [
        "access.view_user", "access.add_user", "access.change_user",
        "auth.view_group", "auth.add_group", "auth.change_group",
        "access.view_matterusergrant", "access.add_matterusergrant",
        "access.change_matterusergrant", "access.delete_matterusergrant",
        "access.view_mattergroupgrant", "access.add_mattergroupgrant",
        "access.change_mattergroupgrant", "access.delete_mattergroupgrant",
        "access.view_usersession",
        "matters.view_matter",
        "jobs.view_jobrun",
        "axes.view_accessattempt", "axes.delete_accessattempt",
    ],
}  # fmt: skip


def ensure_role_groups() -> None:
    """Create the role groups and their admin permissions; safe to run repeatedly."""
    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.value)
        for dotted in ROLE_MODEL_PERMISSIONS.get(role, []):
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                group.permissions.add(permission)


def check_grant(
    *,
    actor: User | None,
    user: User | None,
    group: Group | None,
    reason: str,
    expires_at: datetime | None,
    matter: Matter | None = None,
    request: AccessRequest | None = None,
) -> None:
    """Raise ValidationError (per field) if such a grant may not be made; forms call it too.

    Nobody grants access to themselves, directly or through a group they are
    in — superusers and administrators included (separation of duties). A person
    gives access to a HIGHLY CONFIDENTIAL matter only by approving a request that
    has both its approvals (``request``): the admin site included, so the
    two-person rule has no back door. (``actor`` None: the system — seeding, jobs.)
    """
    if (user is None) == (group is None):
        raise ValidationError(_("A grant goes to exactly one person or one group."))
    errors = {}
    if user is not None and (user.is_departed or not user.is_active):
        errors["user"] = _("Access cannot be granted to an inactive or departed account.")
    if actor is not None and user is not None and user.pk == actor.pk:
        errors["user"] = _("You cannot grant access to yourself. Ask another administrator.")
    if actor is not None and group is not None and group.user_set.filter(pk=actor.pk).exists():
        errors["group"] = _("You cannot grant access to a group you belong to. Ask another administrator.")
    if not reason.strip():
        errors["reason"] = _("Say why access is granted.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("The expiry must be in the future.")
    if errors:
        raise ValidationError(errors)
    if matter is not None:
        _check_conflicts(matter, user, group)
    if actor is not None and matter is not None and matter.classification >= Classification.HIGHLY_CONFIDENTIAL:
        from access.access_requests import missing_capacities

        if request is None or request.matter_id != matter.pk or missing_capacities(request):
            # Under no field: forms show it above theirs (the admin's included).
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: _(
                        "Access to a highly confidential matter is given only through an access request approved "
                        "by its responsible partner and the security officer."
                    )
                }
            )


def _check_conflicts(matter: Matter, user: User | None, group: Group | None = None) -> None:
    """No access to a matter awaiting conflict clearance, to a person a wall screens from it, or to a
    lateral hire whose pending conflict check found it (walls are proposed before any grant)."""
    if matter.status == MatterStatus.INTAKE:
        raise ValidationError(
            {NON_FIELD_ERRORS: _("This matter is awaiting conflict clearance: no access can be given yet.")}
        )
    from access.wall_services import screening_wall  # it imports this module

    if screening_wall(matter=matter, user=user, group=group) is not None:
        field = "group" if group is not None else "user"
        raise ValidationError({field: _("An ethical wall screens this person or team from the matter.")})
    if user is None:
        return
    pending = ConflictCheck.objects.filter(person=user, status=ConflictStatus.PENDING)
    if pending.filter(hit_clients=matter.client_id).exists():
        raise ValidationError(
            {"user": _("This person cannot be given access to this matter now: ask the conflicts partner.")}
        )


@transaction.atomic
def grant_matter_access(
    *,
    actor: User | None,
    matter: Matter,
    level: GrantLevel,
    reason: str,
    user: User | None = None,
    group: Group | None = None,
    expires_at: datetime | None = None,
    request: AccessRequest | None = None,
    emergency: bool = False,
) -> MatterUserGrant | MatterGroupGrant:
    """Give a person or group access to a matter, replacing any grant they already hold on it.

    ``request``: the approved request it comes from; replacing a live grant from a
    renewal request is recorded as a renewal. ``emergency``: the grant break-glass access
    makes (recorded so, for the point-in-time report to tell it from an ordinary grant).
    """
    check_grant(
        actor=actor, user=user, group=group, reason=reason, expires_at=expires_at, matter=matter, request=request
    )
    permission = Permission.objects.get(content_type__app_label="matters", codename=GrantLevel(level).value)
    model, grantee = (MatterUserGrant, {"user": user}) if user is not None else (MatterGroupGrant, {"group": group})
    grant, created = model.objects.select_for_update().update_or_create(
        content_object=matter,
        **grantee,
        defaults={
            "permission": permission,
            "granted_by": actor,
            "reason": reason.strip(),
            "expires_at": expires_at,
            "created_at": timezone.now(),
            "request": request,
            "expiry_warned_at": None,
        },
    )
    action = (
        AuditAction.GRANT_RENEW if request is not None and request.renewal and not created else AuditAction.GRANT_CREATE
    )
    facts = {"request_id": str(request.pk)} if request is not None else {}
    if emergency:
        facts["emergency"] = True
    _record_grant_event(action, grant, actor=actor, matter=matter, replaced=not created, **facts)
    return grant


@transaction.atomic
def revoke_matter_access(*, actor: User | None, grant: MatterUserGrant | MatterGroupGrant, reason: str = "") -> None:
    """Remove a grant. ``reason``: why, when the system revokes (recorded; never client data)."""
    _record_grant_event(AuditAction.GRANT_REVOKE, grant, actor=actor, reason=reason)
    grant.delete()


# The reason an event records when the matter's manager revokes (their own words go to the holder only).
REVOKED_BY_MANAGER = "revoked by the matter's manager"


def add_team_member(
    *,
    actor: User,
    matter: Matter,
    level: GrantLevel,
    reason: str,
    user: User | None = None,
    group: Group | None = None,
    ends_on: date | None = None,
) -> MatterUserGrant | MatterGroupGrant | AccessRequest:
    """The matter's manager adds a person or team, or changes their level.

    On a HIGHLY CONFIDENTIAL matter the two-person rule still holds: adding a person
    files a request carrying the manager's approval, which waits for the security
    officer's; teams are not added there. Returns the grant, or that request.
    """
    from access import access_requests
    from access.policy import Action, can

    if not can(actor, Action.MANAGE, matter):
        raise PermissionDenied
    today = timezone.localdate()
    if ends_on is not None and ends_on < today:
        raise ValidationError({"ends_on": _("The end date is in the past.")})
    limit = access_requests.max_days(matter.classification)
    if ends_on is not None and (ends_on - today).days > limit:
        raise ValidationError(
            {"ends_on": _("Access may be given for at most %(days)d days on this matter.") % {"days": limit}}
        )
    if matter.classification >= Classification.HIGHLY_CONFIDENTIAL:
        if group is not None:
            raise ValidationError(
                {"group": _("On a highly confidential matter, access is given to people one by one.")}
            )
        if ends_on is None:
            raise ValidationError({"ends_on": _("Access to a highly confidential matter needs an end date.")})
        with transaction.atomic():
            # The filing is the manager's approval when they may give the partner's; otherwise
            # the request waits for both approvals like anyone's.
            number = matter.number
            filed = access_requests.request_access(
                actor=actor, requester=user, number=number, level=level, reason=reason, ends_on=ends_on, announce=False
            )
            if access_requests.partner_side_capacity(actor, filed) is None:
                access_requests.announce_request(filed, filer=actor)
                return filed
            return access_requests.approve_access_request(actor=actor, access_request=filed)
    expires_at = access_requests.expires_at_for(ends_on) if ends_on is not None else None
    with transaction.atomic():
        added = grant_matter_access(
            actor=actor, matter=matter, level=level, reason=reason, user=user, group=group, expires_at=expires_at
        )
        holders = [user] if user is not None else list(group.user_set.all())
        notify(
            # A team member a wall screens from the matter is not told it exists.
            [person for person in holders if person.pk != actor.pk and not screen_of(person).covers(matter)],
            NotificationKind.GRANT_ADDED,
            {"approver": str(actor), "number": matter.number, "level": GrantLevel(level).value},
            matter.get_absolute_url(),
        )
    return added


@transaction.atomic
def revoke_team_grant(*, actor: User, grant: MatterUserGrant | MatterGroupGrant, reason: str) -> None:
    """The matter's manager revokes a grant at once, saying why; the holder loses access
    on their next request and is told (the reason in the app only)."""
    from access.policy import Action, can

    matter = grant.content_object
    if not can(actor, Action.MANAGE, matter):
        raise PermissionDenied
    if isinstance(grant, MatterUserGrant) and grant.user_id == actor.pk:
        raise ValidationError(_("You cannot revoke your own access here. Ask an administrator."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why access is revoked: the holder is told.")})
    holders = [grant.user] if isinstance(grant, MatterUserGrant) else list(grant.group.user_set.all())
    revoke_matter_access(actor=actor, grant=grant, reason=REVOKED_BY_MANAGER)
    notify(
        [person for person in holders if person.pk != actor.pk],
        NotificationKind.GRANT_REVOKED,
        {"number": matter.number, "reason": reason.strip()},
    )


def _record_grant_event(
    action: AuditAction,
    grant: MatterUserGrant | MatterGroupGrant,
    *,
    actor: User | None,
    matter: Matter | None = None,
    reason: str = "",
    **facts,
) -> None:
    """Who got or lost which level on which matter, in the grant's transaction.

    The grant's own free-text reason stays out: it may quote client information.
    """
    if isinstance(grant, MatterUserGrant):
        # Not "username": for an event without an actor, that key names who acted (audit.events).
        grantee = {"grantee": "user", "user_id": grant.user_id, "user": grant.user.get_username()}
    else:
        grantee = {"grantee": "group", "group_id": grant.group_id, "group": grant.group.name}
    detail = {
        **grantee,
        "level": grant.level.value,
        "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
        **facts,
    }
    record_event(action, target=matter or grant.content_object, actor=actor, reason=reason, detail=detail)


def end_sessions(user: User, *, except_key: str | None = None) -> int:
    """Sign the person out everywhere (but ``except_key``); returns how many sessions were ended."""
    sessions = UserSession.objects.filter(user=user).exclude(session_key=except_key or "")
    keys = list(sessions.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    sessions.delete()
    return len(keys)


@transaction.atomic
def reset_second_factor(*, actor: User | None, user: User) -> None:
    """Remove a person's authenticator and backup codes: they enrol again at next sign-in."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    end_sessions(user)


# The reason recorded when a departed person's access ends (a code, like the session ends').
DEPARTED = "departed"


def end_access_of_departed_users(now: datetime | None = None) -> dict[str, int]:
    """The periodic job: departed people lose their grants, teams and sessions.

    A departing person is departed from the start of their departure date. Their
    manager and HR are told what was revoked (in the app, and by e-mail).
    Idempotent: a second run finds nothing left to do.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = {"users": 0, "grants": 0, "groups": 0, "sessions": 0}
    # One save per person (not QuerySet.update) so that change history sees it.
    for user in User.objects.filter(
        employment_status=EmploymentStatus.DEPARTING, departure_date__isnull=False, departure_date__lte=today
    ):
        user.employment_status = EmploymentStatus.DEPARTED
        user.save(update_fields=["employment_status"])
    pending = User.objects.filter(employment_status=EmploymentStatus.DEPARTED).filter(
        Q(is_active=True)
        | Q(matterusergrant__isnull=False)
        | Q(signed_in_sessions__isnull=False)
        | (Q(groups__isnull=False) & ~Q(groups__name__in=Role.values))
    )
    for user in pending.distinct().select_related("manager").iterator():
        with transaction.atomic():
            revoked = _end_access_of(user)
        counts["users"] += 1
        counts["grants"] += len(revoked["grants"])
        counts["groups"] += len(revoked["groups"])
        counts["sessions"] += revoked["sessions"]
    return counts


def _close_requests_of(user: User) -> None:
    """A departed person's pending requests leave the queues, and approvals they were still to give
    no longer wait for them: their own requests lapse (each with its event)."""
    from access.access_requests import record_request_event, transition_to
    from access.models import RequestStatus

    for pending in AccessRequest.objects.select_for_update().filter(requester=user, status=RequestStatus.PENDING):
        transition_to(pending, RequestStatus.LAPSED, actor=None, reason=DEPARTED)
        record_request_event(AuditAction.ACCESS_LAPSE, pending, actor=None, cause=DEPARTED)


def _end_access_of(user: User) -> dict:
    """Revoke one departed person's grants and teams, end their sessions, tell manager and HR."""
    grants = []
    # One by one, not QuerySet.delete(): each revocation is its own audit event.
    for grant in MatterUserGrant.objects.filter(user=user).select_related(
        "user", "permission", "content_object__client"
    ):
        matter = grant.content_object
        grants.append({"number": matter.number, "level": grant.level.value, "classification": matter.classification})
        revoke_matter_access(actor=None, grant=grant, reason=DEPARTED)
    teams = list(user.groups.exclude(name__in=Role.values))
    user.groups.remove(*teams)
    sessions = end_sessions(user)
    _close_requests_of(user)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    grants.sort(key=lambda item: item["number"])
    revoked = {"grants": grants, "groups": sorted(team.name for team in teams), "sessions": sessions}
    hr = User.objects.filter(groups__name=Role.HR.value, is_active=True).distinct()
    notify(
        [user.manager, *hr],
        NotificationKind.DEPARTURE,
        {"person": str(user), "username": user.get_username(), "count": len(grants), **revoked},
    )
    return revoked


def clear_expired_sessions(now: datetime | None = None) -> dict[str, int]:
    """The periodic job: drop expired sessions and the records of sessions that no longer exist."""
    now = now or timezone.now()
    sessions, _detail = Session.objects.filter(expire_date__lt=now).delete()
    records, _detail = UserSession.objects.exclude(session_key__in=Session.objects.values("session_key")).delete()
    return {"sessions": sessions, "records": records}
