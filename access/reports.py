"""The security officer's reports: who could access a matter at a given time, and who
accessed a client's information between two dates (the transparency report a client may ask for).

Both read history rather than today's tables. Grants at a past time come from the audit
trail: every grant, renewal, revocation and expiry is an event whose detail names the
grantee, the level and the end (``access.services._record_grant_event``,
``access.expiry._expiry_event``). Walls and emergency accesses keep their own dates.
What history does not record — who was in a group then, who a wall named then — is read
as it is now, and the page says so.

Matters are named by number and client code only: no title, no client name (the
printable transparency report excepted, see ``access.report_views``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth.models import Group
from django.db.models import Count, Max, Min, Prefetch, Q
from django.utils import timezone

from access.models import (
    BreakGlassAccess,
    EthicalWall,
    GrantLevel,
    MatterGroupGrant,
    MatterUserGrant,
    Role,
    User,
    WallAcknowledgement,
    WallKind,
    WallMember,
)
from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from matters.models import Client, Matter

GRANT_ACTIONS = (
    AuditAction.GRANT_CREATE,
    AuditAction.GRANT_RENEW,
    AuditAction.GRANT_REVOKE,
    AuditAction.GRANT_EXPIRE,
)
_OPENING = frozenset({AuditAction.GRANT_CREATE, AuditAction.GRANT_RENEW})

# The matter's columns a report may load: never its title, description or notes, nor its client's name.
MATTER_COLUMNS = ("id", "number", "classification", "status", "client__id", "client__code")


# --- who could access a matter at a given time ------------------------------------------------------------


class Via:
    DIRECT = "direct"
    GROUP = "group"
    EMERGENCY = "emergency"


@dataclass
class GrantAt:
    """A grant in force at the report's time, as the audit trail (or, failing it, the grant table) tells."""

    grantee: str  # "user" or "group"
    grantee_id: int
    label: str  # the username or group name as recorded
    level: GrantLevel | None  # None: the record did not say
    since: datetime  # the start of the uninterrupted holding (a replacement does not restart it)
    expires_at: datetime | None
    from_rows: bool = False  # read from the current grant rows: granted before the trail recorded it
    emergency: bool = False  # made by break-glass access (its event says so)
    group: Group | None = None
    members: list = field(default_factory=list)  # a group's members today


@dataclass
class Route:
    """One way a person could reach the matter."""

    via: str
    level: GrantLevel | None
    since: datetime
    until: datetime | None
    grant: GrantAt | None = None
    emergency: BreakGlassAccess | None = None


@dataclass
class Blocker:
    """A wall in force at the report's time that kept a person out, and how."""

    wall: EthicalWall
    # True: an inclusionary wall named the person, but they had not yet acknowledged its memo.
    unacknowledged: bool = False


@dataclass
class PersonAt:
    user_id: int
    user: User | None  # None: the account no longer exists
    label: str
    routes: list[Route] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)

    @property
    def level(self) -> GrantLevel | None:
        """The strongest level among the routes (emergency access is view access)."""
        known = [route.level for route in self.routes if route.level is not None]
        order = list(GrantLevel)
        return max(known, key=order.index) if known else None

    @property
    def since(self) -> datetime:
        return min(route.since for route in self.routes)

    @property
    def sort_key(self) -> tuple:
        if self.user is None:
            return ("~", "", self.label)
        return (self.user.last_name.casefold(), self.user.first_name.casefold(), self.user.username)


@dataclass
class MatterAccessReport:
    matter: Matter
    at: datetime
    could_access: list[PersonAt]
    screened: list[PersonAt]
    grants: list[GrantAt]
    walls: list[EthicalWall]
    emergencies: list[BreakGlassAccess]
    # Grants read from the grant table because the trail holds no event for them.
    used_fallback: bool
    # Grant events whose record could not be read (verification names them).
    unreadable: int

    @property
    def group_grants(self) -> list[GrantAt]:
        return [grant for grant in self.grants if grant.grantee == "group"]


def matter_access_at(matter: Matter, at: datetime) -> MatterAccessReport:
    """Who could access ``matter`` at ``at``: grants, teams and emergency access, less what walls kept out."""
    grants, unreadable = _grants_at(matter, at)
    _attach_groups(grants)
    walls = _walls_at(matter, at)
    emergencies = list(
        BreakGlassAccess.objects.filter(matter=matter, started_at__lte=at, expires_at__gt=at)
        .select_related("user")
        .only("id", "user", "matter_id", "started_at", "expires_at", "status")  # not the encrypted reason
        .order_by("started_at")
    )
    people = _people(grants, emergencies)
    _screen(people, walls, at)
    ordered = sorted(people.values(), key=lambda person: person.sort_key)
    return MatterAccessReport(
        matter=matter,
        at=at,
        could_access=[person for person in ordered if not person.blockers],
        screened=[person for person in ordered if person.blockers],
        grants=grants,
        walls=walls,
        emergencies=emergencies,
        used_fallback=any(grant.from_rows for grant in grants),
        unreadable=unreadable,
    )


def _grants_at(matter: Matter, at: datetime) -> tuple[list[GrantAt], int]:
    """Replay the matter's grant events up to ``at``; grants the trail never mentions come from the table.

    A grant counts at ``at`` if its latest create or renew event at or before ``at`` has no
    later revoke or expire event at or before ``at``, and the end it recorded is after ``at``.
    A matter has tens of grant events, not thousands: they are read in one query.
    """
    held: dict[tuple[str, int], GrantAt] = {}
    recorded: set[tuple[str, int]] = set()
    unreadable = 0
    events = (
        AuditEvent.objects.filter(matter_id=matter.pk, action__in=GRANT_ACTIONS, outcome=Outcome.SUCCESS)
        .order_by("occurred_at", "id")
        .values_list("action", "occurred_at", "payload")
    )
    for action, occurred_at, payload in events:
        detail = _detail(payload)
        key = _grantee(detail)
        if key is None:
            unreadable += 1
            continue
        recorded.add(key)
        if occurred_at > at:
            continue  # read only to know which grantees the trail mentions at all
        if action in _OPENING:
            held[key] = _opened(key, detail, occurred_at, held.get(key))
        else:
            held.pop(key, None)
    grants = [grant for grant in held.values() if grant.expires_at is None or grant.expires_at > at]
    return grants + _unrecorded_grants(matter, at, recorded), unreadable


def _detail(payload) -> dict | None:
    try:
        record = json.loads(bytes(payload))
    except ValueError:
        return None
    detail = record.get("detail") if isinstance(record, dict) else None
    return detail if isinstance(detail, dict) else None


def _grantee(detail: dict | None) -> tuple[str, int] | None:
    if detail is None:
        return None
    kind = detail.get("grantee")
    grantee_id = detail.get(f"{kind}_id") if kind in ("user", "group") else None
    return (kind, grantee_id) if isinstance(grantee_id, int) else None


def _opened(key: tuple[str, int], detail: dict, occurred_at: datetime, before: GrantAt | None) -> GrantAt:
    """The grant a create or renew event leaves in force; a replacement of a live grant keeps its start."""
    continuing = before is not None and (before.expires_at is None or before.expires_at > occurred_at)
    kind, grantee_id = key
    return GrantAt(
        grantee=kind,
        grantee_id=grantee_id,
        label=str(detail.get(kind) or ""),
        level=_level(detail.get("level")),
        since=before.since if continuing else occurred_at,
        expires_at=_moment(detail.get("expires_at")),
        emergency=detail.get("emergency") is True,
    )


def _level(value) -> GrantLevel | None:
    return GrantLevel(value) if value in GrantLevel.values else None


def _moment(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def _unrecorded_grants(matter: Matter, at: datetime, recorded: set[tuple[str, int]]) -> list[GrantAt]:
    """Current grant rows the trail has no event for (made before it recorded grants), in force at ``at``."""
    found = []
    for model, kind in ((MatterUserGrant, "user"), (MatterGroupGrant, "group")):
        rows = (
            model.objects.live(at).filter(content_object=matter, created_at__lte=at).select_related(kind, "permission")
        )
        for row in rows:
            grantee_id = getattr(row, f"{kind}_id")
            if (kind, grantee_id) in recorded:
                continue
            holder = getattr(row, kind)
            found.append(
                GrantAt(
                    grantee=kind,
                    grantee_id=grantee_id,
                    label=holder.name if kind == "group" else holder.get_username(),
                    level=_level(row.permission.codename),
                    since=row.created_at,
                    expires_at=row.expires_at,
                    from_rows=True,
                )
            )
    return found


def _attach_groups(grants: list[GrantAt]) -> None:
    """Each group grant's group and its members today (membership history is not recorded)."""
    ids = [grant.grantee_id for grant in grants if grant.grantee == "group"]
    if not ids:
        return
    members = Prefetch("user_set", queryset=User.objects.order_by("last_name", "first_name", "username"))
    groups = Group.objects.filter(pk__in=ids).prefetch_related(members).in_bulk()
    for grant in grants:
        if grant.grantee == "group" and grant.grantee_id in groups:
            grant.group = groups[grant.grantee_id]
            grant.members = list(grant.group.user_set.all())


def _walls_at(matter: Matter, at: datetime) -> list[EthicalWall]:
    """The walls in force at ``at`` around the matter or around all its client's matters, with whom they name."""
    named = Prefetch("members", queryset=WallMember.objects.select_related("user", "group").order_by("pk"))
    return list(
        EthicalWall.objects.filter(Q(matter_id=matter.pk) | Q(matter__isnull=True, client_id=matter.client_id))
        .filter(erected_at__lte=at)
        .filter(Q(lifted_at__isnull=True) | Q(lifted_at__gt=at))
        # Not the reason, memo or lift reason: encrypted, and nothing this report shows.
        .only("id", "kind", "client_id", "matter_id", "requires_acknowledgement", "erected_at", "lifted_at")
        .prefetch_related(named)
        .order_by("erected_at")
    )


def _people(grants: list[GrantAt], emergencies: list[BreakGlassAccess]) -> dict[int, PersonAt]:
    """Everyone a grant, a team or an emergency access reached, with each route."""
    routes: dict[int, list[Route]] = defaultdict(list)
    labels: dict[int, str] = {}
    for grant in grants:
        route = Route(via=Via.GROUP, level=grant.level, since=grant.since, until=grant.expires_at, grant=grant)
        if grant.grantee == "user":
            route.via = Via.DIRECT
            routes[grant.grantee_id].append(route)
            labels[grant.grantee_id] = grant.label
        for member in grant.members:
            routes[member.pk].append(route)
    for access in emergencies:
        # The view grant the emergency made is this route, not a second one (break_glass._open).
        routes[access.user_id] = [route for route in routes[access.user_id] if not _made_by(access, route)]
        routes[access.user_id].append(
            Route(
                via=Via.EMERGENCY,
                level=GrantLevel.VIEW,
                since=access.started_at,
                until=access.expires_at,
                emergency=access,
            )
        )
    users = User.objects.in_bulk(list(routes))
    people = {}
    for user_id, found in routes.items():
        user = users.get(user_id)
        label = user.get_username() if user is not None else labels.get(user_id, "") or f"#{user_id}"
        found.sort(key=lambda route: route.since)
        people[user_id] = PersonAt(user_id=user_id, user=user, label=label, routes=found)
    return people


def _made_by(access: BreakGlassAccess, route: Route) -> bool:
    """Whether ``route`` is the person's own view grant that emergency ``access`` made: its event
    says so, or (events recorded before they did) it ends exactly when the access does. A grant
    a partner gave meanwhile replaced it, and its event does not say so: it is listed."""
    grant = route.grant
    if route.via != Via.DIRECT or grant is None:
        return False
    return grant.emergency or (grant.expires_at is not None and grant.expires_at == access.expires_at)


def _screen(people: dict[int, PersonAt], walls: list[EthicalWall], at: datetime) -> None:
    """Mark who each wall kept out: an exclusionary wall those it names (directly or through a group
    they are in today), an inclusionary one everyone else — and, where it asks for it, those it names
    who had not yet acknowledged its memo at ``at``."""
    if not walls or not people:
        return
    groups_of: dict[int, set[int]] = defaultdict(set)
    memberships = User.groups.through.objects.filter(user_id__in=list(people)).values_list("user_id", "group_id")
    for user_id, group_id in memberships:
        groups_of[user_id].add(group_id)
    acknowledged = set(
        WallAcknowledgement.objects.filter(
            wall__in=walls, user_id__in=list(people), acknowledged_at__lte=at
        ).values_list("wall_id", "user_id")
    )
    for wall in walls:
        user_ids = {member.user_id for member in wall.members.all() if member.user_id}
        group_ids = {member.group_id for member in wall.members.all() if member.group_id}
        for person in people.values():
            named = person.user_id in user_ids or bool(groups_of[person.user_id] & group_ids)
            if wall.kind == WallKind.EXCLUSIONARY:
                if named:
                    person.blockers.append(Blocker(wall))
            elif not named:
                person.blockers.append(Blocker(wall))
            elif wall.requires_acknowledgement and (wall.pk, person.user_id) not in acknowledged:
                person.blockers.append(Blocker(wall, unacknowledged=True))


# --- who accessed a client's information between two dates ---------------------------------------------------

# Reads and writes that reveal one client's information. Not matter lists or searches: a list
# shows many clients' matters at once and says nothing of this one in particular.
TRANSPARENCY_ACTIONS = (
    AuditAction.MATTER_VIEW,
    AuditAction.DOCUMENT_VIEW,
    AuditAction.DOCUMENT_DOWNLOAD,
    AuditAction.DOCUMENT_UPLOAD,
    AuditAction.BREAK_GLASS,
)


@dataclass
class Accessor:
    """One person's accesses to the client's information in the period."""

    actor_id: int | None
    user: User | None
    first: datetime
    last: datetime
    counts: dict[str, int]
    matter_numbers: list[str]
    roles: list[str] = field(default_factory=list)

    @property
    def username(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return f"#{self.actor_id}" if self.actor_id is not None else ""

    @property
    def name(self) -> str:
        return self.user.get_full_name() if self.user is not None else ""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count_list(self) -> list[int]:
        """The counts in :data:`TRANSPARENCY_ACTIONS` order (for the table and the CSV)."""
        return [self.counts.get(action, 0) for action in TRANSPARENCY_ACTIONS]


def period(start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of ``start`` to the end of ``end``, in the firm's time zone."""
    since = timezone.make_aware(datetime.combine(start, time.min))
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min))
    return since, until


def client_accessors(client: Client, start: date, end: date) -> list[Accessor]:
    """Everyone who viewed, downloaded or uploaded the client's information between ``start`` and
    ``end`` (inclusive), or opened one of its matters in an emergency: one aggregate query over the
    trail, grouped by person, action and matter, however many events there are; then the people
    and matter numbers it names."""
    since, until = period(start, end)
    groups = (
        AuditEvent.objects.filter(
            client_id=client.pk,
            outcome=Outcome.SUCCESS,
            action__in=TRANSPARENCY_ACTIONS,
            occurred_at__gte=since,
            occurred_at__lt=until,
        )
        .values("actor_id", "action", "matter_id")
        .annotate(events=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by()
    )
    folded: dict[int | None, dict] = {}
    for row in groups:
        entry = folded.setdefault(
            row["actor_id"], {"first": row["first"], "last": row["last"], "counts": defaultdict(int), "matters": set()}
        )
        entry["first"] = min(entry["first"], row["first"])
        entry["last"] = max(entry["last"], row["last"])
        entry["counts"][row["action"]] += row["events"]
        if row["matter_id"] is not None:
            entry["matters"].add(row["matter_id"])
    roles = Prefetch("groups", queryset=Group.objects.filter(name__in=Role.values), to_attr="role_groups")
    users = User.objects.prefetch_related(roles).in_bulk([actor for actor in folded if actor is not None])
    numbers = dict(
        Matter.objects.filter(pk__in={m for entry in folded.values() for m in entry["matters"]}).values_list(
            "pk", "number"
        )
    )
    accessors = []
    for actor_id, entry in folded.items():
        user = users.get(actor_id)
        accessors.append(
            Accessor(
                actor_id=actor_id,
                user=user,
                first=entry["first"],
                last=entry["last"],
                counts=dict(entry["counts"]),
                matter_numbers=sorted(numbers.get(m, str(m)[:8]) for m in entry["matters"]),
                roles=sorted(str(Role(group.name).label) for group in user.role_groups) if user is not None else [],
            )
        )
    return sorted(accessors, key=_accessor_order)


def _accessor_order(accessor: Accessor) -> tuple:
    user = accessor.user
    if user is None:
        return ("~", accessor.username)
    return (user.last_name.casefold(), user.first_name.casefold(), user.get_username())
