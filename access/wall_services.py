"""Ethical walls: erecting one, lifting it, and acknowledging its memo (one function each).

The security officer and conflicts partners erect and lift walls. Erecting a wall
revokes at once every grant it conflicts with — the policy (``access.walls``) would
refuse them anyway, but a grant a wall has made useless should not linger to
resurface when the wall is lifted — and records what it revoked on the wall.
A team grant is never revoked for one of its members: the team keeps its access and
the policy keeps the screened member out (:func:`blocked_team_grants` lists such
grants). Events and notifications name matters by number and clients by code; the
wall's reason and memo (encrypted under the client's key) never leave the app.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from access.models import (
    AccessReviewItem,
    EthicalWall,
    MatterGroupGrant,
    MatterUserGrant,
    NotificationKind,
    ReviewDecision,
    Role,
    User,
    WallAcknowledgement,
    WallKind,
    WallMember,
)
from access.notifications import notify_many
from access.services import revoke_matter_access
from audit.actions import AuditAction
from audit.events import record_event
from matters.models import Client, ConflictCheck, Matter

# Who erects, lifts and reads walls.
WALL_ROLES = frozenset({Role.SECURITY_OFFICER.value, Role.CONFLICTS.value})

# What a grant.revoke event records when a wall revokes (a code: the wall's own reason may name the client).
REVOKED_BY_WALL = "revoked by an ethical wall"


def may_manage_walls(user) -> bool:
    """The security officer or a conflicts partner, active and still at the firm."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and not user.is_departed
        and WALL_ROLES & user.role_names()
    )


def _can_work(user: User) -> bool:
    return user.is_active and not user.is_departed


# --- Erecting -----------------------------------------------------------------------------


@transaction.atomic
def erect_wall(
    *,
    actor: User,
    kind: WallKind | str,
    client: Client,
    matter: Matter | None = None,
    people: Iterable[User] = (),
    groups: Iterable[Group] = (),
    reason: str,
    memo: str,
    requires_acknowledgement: bool | None = None,
    conflict_check: ConflictCheck | None = None,
) -> EthicalWall:
    """Put a wall around ``matter`` (or every matter of ``client``, present and future) naming
    ``people`` and ``groups``; revoke the grants it conflicts with; tell those concerned.

    ``requires_acknowledgement`` (default: the setting ``WALLS_REQUIRE_ACKNOWLEDGEMENT``):
    the people an inclusionary wall lets in open its matters only once they have
    acknowledged the memo. Raises PermissionDenied for anyone but the security officer
    or a conflicts partner, ValidationError (per field) for what cannot make a wall.
    """
    if not may_manage_walls(actor):
        raise PermissionDenied
    if _names_officer(actor, client, matter):
        raise PermissionDenied  # a wall keeps the officer out of these matters: not theirs to wall
    people, groups = _distinct(people), _distinct(groups)
    _check_wall(kind=kind, client=client, matter=matter, people=people, groups=groups, reason=reason, memo=memo)
    if requires_acknowledgement is None:
        requires_acknowledgement = settings.WALLS_REQUIRE_ACKNOWLEDGEMENT
    wall = EthicalWall(
        kind=WallKind(kind),
        client=client,
        matter=matter,
        reason=reason.strip(),
        memo=memo.strip(),
        requires_acknowledgement=bool(requires_acknowledgement),
        erected_by=actor,
        erected_at=timezone.now(),
        conflict_check=conflict_check,
    )
    wall.full_clean()
    wall.save()
    # One by one, not bulk_create: the change history (django-auditlog) records each member.
    for person in people:
        WallMember.objects.create(wall=wall, user=person)
    for group in groups:
        WallMember.objects.create(wall=wall, group=group)
    revoked, losers = _revoke_conflicting_grants(wall, actor=actor)
    wall.revoked_grants = revoked
    wall.save(update_fields=["revoked_grants"])
    handed_over = _hand_over_reviews(wall)
    _record_erected(wall, people=people, groups=groups, reviews_handed_over=handed_over)
    _announce(wall, losers)
    if conflict_check is not None:
        from matters.intake_services import open_walled_matter  # it imports this module

        # A matter cleared "with a wall" opens only now that its wall stands.
        open_walled_matter(conflict_check)
    return wall


def _record_erected(
    wall: EthicalWall, *, people: list[User], groups: list[Group], reviews_handed_over: int = 0
) -> None:
    """The wall.erect event: ids and counts, never the reason or the memo (they may name the client)."""
    record_event(
        AuditAction.WALL_ERECT,
        target=wall,
        actor=wall.erected_by,
        detail={
            "wall_id": str(wall.pk),
            "kind": wall.kind,
            "scope": "matter" if wall.matter_id else "client",
            "people": len(people),
            "groups": len(groups),
            "user_ids": sorted(person.pk for person in people),
            "group_ids": sorted(group.pk for group in groups),
            "revoked": len(wall.revoked_grants),
            "teams_blocked": blocked_team_grants(wall).count(),
            "reviews_handed_over": reviews_handed_over,
            "requires_acknowledgement": wall.requires_acknowledgement,
            "conflict_check_id": str(wall.conflict_check_id) if wall.conflict_check_id else None,
        },
    )


def _distinct(items: Iterable) -> list:
    return list({item.pk: item for item in items if item is not None}.values())


def _check_wall(*, kind, client, matter, people, groups, reason, memo) -> None:
    """Raise ValidationError (per field) for what cannot make a wall; writes nothing."""
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if kind not in WallKind.values:
        refuse("kind", _("Choose whether the wall keeps the named people out or lets only them in."))
    if client is None:
        refuse("client", _("Say which client the wall is around."))
    elif client.shredded_at is not None:
        refuse("client", _("This client's keys were destroyed: there is nothing left to wall off."))
    if matter is not None and client is not None and matter.client_id != client.pk:
        refuse("matter", _("This matter is not one of that client's matters."))
    if not (reason or "").strip():
        refuse("reason", _("Say why the wall is needed."))
    if not (memo or "").strip():
        refuse("memo", _("Write the memo the people named will receive."))
    if any(group.name in Role.values for group in groups):
        refuse("groups", _("A wall names people and teams, not roles."))
    if not people and not groups:
        refuse(NON_FIELD_ERRORS, _("Name at least one person or team."))
    elif kind == WallKind.INCLUSIONARY and not _anyone_can_work(people, groups):
        refuse(
            NON_FIELD_ERRORS,
            _("An inclusionary wall must let in at least one active person: nobody named could work on the matters."),
        )
    if errors:
        raise ValidationError(errors)


def _anyone_can_work(people: list[User], groups: list[Group]) -> bool:
    if any(_can_work(person) for person in people):
        return True
    members = User.objects.filter(groups__in=groups, is_active=True).distinct()
    return any(_can_work(member) for member in members)


def named_people(wall: EthicalWall) -> QuerySet[User]:
    """The people the wall names: directly, or as members of a group it names."""
    directly = WallMember.objects.filter(wall_id=wall.pk, user__isnull=False).values("user_id")
    named_groups = WallMember.objects.filter(wall_id=wall.pk, group__isnull=False).values("group_id")
    through_groups = User.groups.through.objects.filter(group_id__in=named_groups).values("user_id")
    return User.objects.filter(Q(pk__in=directly) | Q(pk__in=through_groups))


def _conflicting_grants(wall: EthicalWall) -> tuple[QuerySet, QuerySet]:
    """The live grants on the walled matters that the wall makes useless.

    Exclusionary: every direct grant of someone it names (directly or through a group),
    and the grants of the groups it names. Inclusionary: every direct grant of someone it
    does not name, and the grants of every group it does not name unless someone it names is in it.
    """
    named = named_people(wall).values("pk")
    named_groups = wall.members.filter(group__isnull=False).values("group_id")
    direct = MatterUserGrant.objects.live().filter(_walled(wall))
    via_group = MatterGroupGrant.objects.live().filter(_walled(wall))
    if wall.kind == WallKind.EXCLUSIONARY:
        return direct.filter(user_id__in=named), via_group.filter(group_id__in=named_groups)
    # A team with someone the wall lets in keeps its grant (the policy keeps the others out), as an
    # exclusionary wall keeps the grant of a team with someone it screens: nobody named loses access.
    with_named = User.groups.through.objects.filter(user_id__in=named).values("group_id")
    return direct.exclude(user_id__in=named), via_group.exclude(group_id__in=named_groups).exclude(
        group_id__in=with_named
    )


def _revoke_conflicting_grants(wall: EthicalWall, *, actor: User) -> tuple[list[dict], set[tuple[int, str]]]:
    """Revoke the conflicting grants one by one (each its grant.revoke event).

    Returns what was revoked, as the wall records it, and (person id, matter number) for
    everyone who lost access: the holder of a direct grant, the members of a group's.
    """
    direct, via_group = _conflicting_grants(wall)
    revoked: list[dict] = []
    losers: set[tuple[int, str]] = set()
    for grant in direct.select_related("user", "permission", "content_object__client").order_by("pk"):
        number = grant.content_object.number
        revoked.append(_revoked_entry(grant, user_id=grant.user_id))
        losers.add((grant.user_id, number))
        revoke_matter_access(actor=actor, grant=grant, reason=REVOKED_BY_WALL)
    for grant in via_group.select_related("group", "permission", "content_object__client").order_by("pk"):
        number = grant.content_object.number
        revoked.append(_revoked_entry(grant, group_id=grant.group_id))
        losers.update((member_id, number) for member_id in grant.group.user_set.values_list("pk", flat=True))
        revoke_matter_access(actor=actor, grant=grant, reason=REVOKED_BY_WALL)
    revoked.sort(key=lambda entry: (entry["matter_number"], "group_id" in entry, entry.get("user_id") or 0))
    return revoked, losers


def _screened_among(wall: EthicalWall, user_ids: set[int]) -> set[int]:
    """Which of ``user_ids`` the wall screens: those it names if exclusionary, the others if not."""
    named = set(named_people(wall).filter(pk__in=user_ids).values_list("pk", flat=True))
    return named if wall.kind == WallKind.EXCLUSIONARY else user_ids - named


def _walled(wall: EthicalWall, field: str = "content_object") -> Q:
    """The rows about the matters the wall is around (grants by default), by their ``field``
    foreign key to the matter."""
    if wall.matter_id is not None:
        return Q(**{f"{field}_id": wall.matter_id})
    return Q(**{f"{field}__client_id": wall.client_id})


def _hand_over_reviews(wall: EthicalWall) -> int:
    """A partner the wall screens no longer recertifies access to its matters: their pending
    items in open reviews go to the security officer, like those of a partner who left."""
    items = AccessReviewItem.objects.filter(
        _walled(wall, "matter"),
        decision=ReviewDecision.PENDING,
        campaign__closed_at__isnull=True,
        reviewer__isnull=False,
    )
    screened = _screened_among(wall, set(items.values_list("reviewer_id", flat=True)))
    if not screened:
        return 0
    # A plain update: the item's history is its decision, which nobody has made yet; the
    # wall's erect event counts the items handed over.
    return items.filter(reviewer_id__in=screened).update(reviewer=None)


def _revoked_entry(grant: MatterUserGrant | MatterGroupGrant, **holder) -> dict:
    return {
        **holder,
        "matter_id": str(grant.content_object_id),
        "matter_number": grant.content_object.number,
        "level": grant.level.value,
    }


def _announce(wall: EthicalWall, losers: set[tuple[int, str]]) -> None:
    """The memo to everyone the wall names; a word to everyone whose access it revoked."""
    named = named_people(wall).order_by("pk")
    scope = {"number": wall.matter.number} if wall.matter_id else {"client": wall.client.code}
    memo_url = reverse("access:wall_acknowledge", args=[wall.pk])
    notes = [(person, NotificationKind.WALL_MEMO, {"kind": wall.kind, **scope}, memo_url) for person in named]
    people = User.objects.in_bulk({person_id for person_id, _number in losers})
    notes += [
        (people[person_id], NotificationKind.WALL_REVOKED, {"number": number}, "")
        for person_id, number in sorted(losers, key=lambda loser: (loser[1], loser[0]))
        if person_id in people
    ]
    notify_many(notes)


# --- Reading --------------------------------------------------------------------------------


def blocked_team_grants(wall: EthicalWall) -> QuerySet[MatterGroupGrant]:
    """Team grants on the walled matters that a live exclusionary wall blocks for some of the
    team's members (``screened``: how many), though not revoked: the team keeps its access."""
    if wall.kind != WallKind.EXCLUSIONARY or not wall.is_live:
        return MatterGroupGrant.objects.none()
    named_groups = wall.members.filter(group__isnull=False).values("group_id")
    return (
        MatterGroupGrant.objects.live()
        .filter(_walled(wall))
        .exclude(group_id__in=named_groups)
        .annotate(screened=Count("group__user", filter=Q(group__user__in=named_people(wall)), distinct=True))
        .filter(screened__gt=0)
    )


def names(wall: EthicalWall, user) -> bool:
    """Whether the wall names ``user``, directly or through one of their groups."""
    if not getattr(user, "is_authenticated", False):
        return False
    memberships = User.groups.through.objects.filter(user_id=user.pk).values("group_id")
    return wall.members.filter(Q(user_id=user.pk) | Q(group_id__in=memberships)).exists()


def screening_wall(*, matter: Matter, user: User | None = None, group: Group | None = None) -> EthicalWall | None:
    """The live wall around ``matter`` that a grant to ``user`` (or ``group``) would conflict with, or None.

    For ``access.services.check_grant``: a person an exclusionary wall names, anyone an
    inclusionary wall does not name, and the groups in the same positions.
    """
    walls = EthicalWall.objects.live().filter(
        Q(matter_id=matter.pk) | Q(matter__isnull=True, client_id=matter.client_id)
    )
    if user is not None:
        memberships = User.groups.through.objects.filter(user_id=user.pk).values("group_id")
        who = Q(user_id=user.pk) | Q(group_id__in=memberships)
    elif group is not None:
        who = Q(group_id=group.pk)
    else:
        return None
    named = Exists(WallMember.objects.filter(who, wall_id=OuterRef("pk")))
    conflicting = Q(kind=WallKind.EXCLUSIONARY, named=True) | Q(kind=WallKind.INCLUSIONARY, named=False)
    return walls.annotate(named=named).filter(conflicting).order_by("erected_at").first()


# --- Lifting and acknowledging ------------------------------------------------------------------


def _names_officer(user: User, client, matter) -> bool:
    """Whether a live exclusionary wall around ``matter`` (or any of ``client``'s matters) names ``user``."""
    walls = EthicalWall.objects.live().filter(kind=WallKind.EXCLUSIONARY, client=client)
    if matter is not None:
        walls = walls.filter(Q(matter__isnull=True) | Q(matter=matter))
    groups = User.groups.through.objects.filter(user_id=user.pk).values("group_id")
    return WallMember.objects.filter(Q(user_id=user.pk) | Q(group_id__in=groups), wall__in=walls).exists()


def screens_officer(user: User, wall: EthicalWall) -> bool:
    """Whether an exclusionary ``wall`` names ``user`` (directly or through a team): a conflicts
    partner screened by a wall may neither read it nor lift it."""
    if wall.kind != WallKind.EXCLUSIONARY:
        return False
    groups = User.groups.through.objects.filter(user_id=user.pk).values("group_id")
    return wall.members.filter(Q(user_id=user.pk) | Q(group_id__in=groups)).exists()


@transaction.atomic
def lift_wall(*, actor: User, wall: EthicalWall, reason: str) -> EthicalWall:
    """Lift a live wall, saying why. Its members and history stay; nothing it revoked comes back."""
    if not may_manage_walls(actor) or screens_officer(actor, wall):
        raise PermissionDenied
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the wall is lifted.")})
    # Locked without joins: PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    locked = EthicalWall.objects.select_for_update().get(pk=wall.pk)
    if not locked.is_live:
        raise ValidationError(_("This wall has already been lifted."))
    if locked.client.shredded_at is not None:
        raise ValidationError(_("This client's keys were destroyed: the wall can no longer be changed."))
    locked.lifted_by, locked.lifted_at, locked.lift_reason = actor, timezone.now(), reason.strip()
    locked.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
    record_event(
        AuditAction.WALL_LIFT,
        target=locked,
        actor=actor,
        detail={"wall_id": str(locked.pk), "kind": locked.kind, "scope": "matter" if locked.matter_id else "client"},
    )
    return locked


@transaction.atomic
def acknowledge_memo(*, user: User, wall: EthicalWall) -> WallAcknowledgement:
    """Record that ``user`` read the wall's memo. Only someone the wall names (directly or
    through a group) may; acknowledging twice changes nothing and records nothing more."""
    if not names(wall, user):
        raise PermissionDenied
    acknowledgement, created = WallAcknowledgement.objects.get_or_create(wall=wall, user=user)
    if created:
        record_event(
            AuditAction.WALL_ACKNOWLEDGE, target=wall, actor=user, detail={"wall_id": str(wall.pk), "kind": wall.kind}
        )
    return acknowledgement
