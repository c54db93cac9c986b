"""The authorization policy: the one place that answers "may this person …?".

Every view, list, export and search asks through these functions; nothing else
filters matters by hand. Deny by default: a matter is visible only through a
live grant, to the person or to one of their groups. No role — administrator,
security officer or superuser — bypasses a missing grant. What a person may not
see answers 404, the same as what does not exist.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import F, Lookup, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from access.models import GrantLevel, MatterGroupGrant, MatterUserGrant, Role, User
from access.walls import Screen, screen_ctes, screen_of, screened_q
from audit.actions import AuditAction, Outcome
from audit.events import current_request, record_event
from matters.models import Classification, Document, Matter, MatterStatus


class Action(StrEnum):
    VIEW = "view"
    DOWNLOAD = "download"
    EDIT = "edit"
    MANAGE = "manage"

    @property
    def minimum_level(self) -> GrantLevel:
        return {
            Action.VIEW: GrantLevel.VIEW,
            Action.DOWNLOAD: GrantLevel.DOWNLOAD,
            Action.EDIT: GrantLevel.EDIT,
            Action.MANAGE: GrantLevel.MANAGE,
        }[self]


@dataclass(frozen=True)
class Decision:
    """The answer to a permission question, with a reason the UI can show."""

    allowed: bool
    reason: str | Promise
    # Where the person can put the refusal right (a gate's remedy: the course to take).
    remedy_url: str = ""
    remedy_label: str | Promise = ""

    def __str__(self) -> str:
        return str(self.reason)

    def __bool__(self) -> bool:
        return self.allowed


def _ineligibility(user) -> Decision | None:
    """Why this person may see no matter at all, or None."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Decision(False, _("Not signed in."))
    if user.is_departed:
        return Decision(False, _("The account belongs to someone who has left the firm."))
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and not is_verified():
        return Decision(False, _("The second factor has not been verified in this session."))
    return None


def _live_grants(user, action: Action, at=None, matter_id=None) -> tuple[QuerySet, QuerySet]:
    """``user``'s live grants of at least ``action``'s level: direct, and through groups.

    Expiry is compared with ``at`` (now): exact, whatever a job has cleaned up.
    """
    grant_q = Q(expires_at__isnull=True) | Q(expires_at__gt=at or timezone.now())
    if action != Action.VIEW:
        # Every level includes viewing, so only stronger actions look at the level.
        grant_q &= Q(permission__codename__in=GrantLevel.at_least(action.minimum_level))
    if matter_id is not None:
        grant_q &= Q(content_object_id=matter_id)
    memberships = User.groups.through.objects.filter(user_id=user.pk).values("group_id")
    direct = MatterUserGrant.objects.filter(grant_q, user_id=user.pk)
    via_group = MatterGroupGrant.objects.filter(grant_q, group_id__in=memberships)
    return direct, via_group


def _grant_sources(user, action: Action, at=None) -> tuple[QuerySet, QuerySet]:
    """The matter ids of ``user``'s live grants: direct, and through groups."""
    direct, via_group = _live_grants(user, action, at)
    return direct.values("content_object_id"), via_group.values("content_object_id")


def granted_matter_ids(user, action: Action = Action.VIEW, at=None) -> QuerySet:
    """Ids of the matters ``user`` holds a live grant on, directly or through a group (a UNION)."""
    direct, via_group = _grant_sources(user, action, at)
    return direct.union(via_group)


class _AnyOf(Lookup):
    """``pk = ANY(ARRAY(subquery))``: PostgreSQL reads the few ids first, then fetches each by primary key."""

    lookup_name = "any_of"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


# Up to this many visible matters, the list fetches them by id (work grows with
# their number); beyond it, it walks the matters in display order keeping the
# granted ones (work grows with matters / visible). Measured crossover: bench/.
FEW_MATTERS = 1000


def visible_matters(
    user, action: Action = Action.VIEW, matter_q: Q | None = None, *, known_count: int | None = None
) -> QuerySet[Matter]:
    """The matters ``user`` may act on, as a queryset filtered in the database.

    ``known_count`` — what :func:`count_visible_matters` answered — lets the
    query take the shape that is fast for that many matters (see bench/README.md).
    """
    if _ineligibility(user) is not None:
        return Matter.objects.none()
    direct, via_group = _grant_sources(user, action)
    if known_count is not None and known_count <= FEW_MATTERS and connection.vendor == "postgresql":
        matters = Matter.objects.filter(_AnyOf(F("pk"), ArraySubquery(direct.union(via_group))))
    else:
        matters = Matter.objects.filter(Q(pk__in=direct) | Q(pk__in=via_group))
    screen = screen_for(user)
    if screen:
        matters = matters.exclude(screened_q(screen))
    return matters.filter(matter_q) if matter_q is not None else matters


def count_visible_matters(user, action: Action = Action.VIEW, matter_q: Q | None = None) -> int:
    """How many matters :func:`visible_matters` holds.

    Unfiltered, counted from the grant tables alone, never scanning matters.
    """
    if _ineligibility(user) is not None:
        return 0
    if matter_q is not None:
        return visible_matters(user, action, matter_q, known_count=0).count()
    if action == Action.VIEW:
        # One statement: the grants less what the walls screen, the screen read in the same
        # statement (bench/README.md, Walls). The page's own screen is read after, for its rows.
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(_view_count_sql(connection.vendor), [user.pk] * 4 + [user.pk, now, user.pk, now])
            return cursor.fetchone()[0]
    granted = granted_matter_ids(user, action).count()
    screen = screen_for(user)
    if not screen:
        return granted
    # Less the granted matters a wall screens: found from the few matters and clients the walls
    # name (their indexes), not by reading every granted matter.
    direct, via_group = _grant_sources(user, action)
    return granted - Matter.objects.filter(screened_q(screen)).filter(Q(pk__in=direct) | Q(pk__in=via_group)).count()


@functools.cache
def _view_count_sql(vendor: str) -> str:
    """The list's count, written once per process: the live grants, direct and through groups
    (the UNION the ORM would build from :func:`_grant_sources`), less the matters the person's
    screen keeps out — those its walls name, and every matter of the clients they name.

    Hand-written: the ORM spends longer building and compiling this per request than the
    database spends running it, and this is the list's hottest statement. The screen comes
    from ``access.walls.screen_ctes`` (the person's id four times), then the grants' parameters.
    """
    quote = connection.ops.quote_name
    direct, via_group, membership = MatterUserGrant._meta, MatterGroupGrant._meta, User.groups.through._meta
    matter = Matter._meta

    def column(meta, field: str) -> str:
        return quote(meta.get_field(field).column)

    live = "({expires} IS NULL OR {expires} > %s)"
    granted = f"granted.{column(direct, 'content_object')}"
    # Only quoted table and column names of our own models are formatted in; values are parameters.
    return (
        f"WITH {screen_ctes(vendor)} SELECT COUNT(*) FROM ("  # noqa: S608
        f"SELECT {column(direct, 'content_object')} FROM {quote(direct.db_table)} "
        f"WHERE {column(direct, 'user')} = %s AND {live.format(expires=column(direct, 'expires_at'))} "
        f"UNION SELECT {column(via_group, 'content_object')} FROM {quote(via_group.db_table)} "
        f"WHERE {column(via_group, 'group')} IN (SELECT {column(membership, 'group')} "
        f"FROM {quote(membership.db_table)} WHERE {column(membership, 'user')} = %s) "
        f"AND {live.format(expires=column(via_group, 'expires_at'))}"
        f") AS granted "
        f"WHERE {granted} NOT IN (SELECT matter_id FROM screen WHERE awaiting = 0 AND matter_id IS NOT NULL) "
        f"AND {granted} NOT IN (SELECT {quote(matter.pk.column)} FROM {quote(matter.db_table)} "
        f"WHERE {column(matter, 'client')} IN (SELECT client_id FROM screen WHERE awaiting = 0 AND matter_id IS NULL))"
    )


def level_on(user, obj: Matter | Document) -> GrantLevel | None:
    """The strongest level of ``user``'s live grants on the matter (theirs or their groups'), or None.

    One query answers every question a page asks about one matter.
    """
    if _ineligibility(user) is not None:
        return None
    if screen_for(user).covers(obj.matter if isinstance(obj, Document) else obj):
        return None  # an ethical wall: as if no grant existed
    matter_id = obj.matter_id if isinstance(obj, Document) else obj.pk
    direct, via_group = _live_grants(user, Action.VIEW, matter_id=matter_id)
    codenames = direct.values_list("permission__codename", flat=True).union(
        via_group.values_list("permission__codename", flat=True)
    )
    held = set(codenames)
    return next((level for level in reversed(GrantLevel) if level.value in held), None)


# Why a screened person is refused (recorded; they see Not found, like anyone without access).
SCREENED = _("An ethical wall screens this person from the matter.")


def screen_for(user) -> Screen:
    """The walls that screen ``user`` (``access.walls``): asked once per request being served."""
    request = current_request()
    memo = getattr(request, "_custos_wall_screens", None) if request is not None else None
    if memo is None:
        if request is None:
            return screen_of(user)
        memo = {}
        request._custos_wall_screens = memo
    if user.pk not in memo:
        memo[user.pk] = screen_of(user)
    return memo[user.pk]


def _allows(level: GrantLevel | None, action: Action) -> bool:
    return level is not None and level.value in GrantLevel.at_least(action.minimum_level)


def can(user, action: Action | str, obj: Matter | Document, *, level: GrantLevel | None = None) -> Decision:
    """May ``user`` do ``action`` on ``obj``? ``level``: what :func:`level_on` already answered."""
    action = Action(action)
    refusal = _ineligibility(user)
    if refusal is not None:
        return refusal
    level = level if level is not None else level_on(user, obj)
    matter = obj.matter if isinstance(obj, Document) else obj
    if level is None and screen_for(user).covers(matter):
        return Decision(False, SCREENED)
    if _allows(level, action) and (pending := screen_for(user).pending_for(matter)) is not None:
        return Decision(
            False,
            _("Read and acknowledge the ethical wall's memo before opening this matter."),
            remedy_url=reverse("access:wall_acknowledge", args=[pending.pk]),
            remedy_label=_("Read the memo"),
        )
    if _allows(level, action):
        refusal = _gated(user, obj)  # a refusal is falsy (a Decision's truth is its answer): compare with None
        return refusal if refusal is not None else Decision(True, _("Granted."))
    if level is None:
        return Decision(False, _("You have no access to this matter."))
    return Decision(False, _("Your access to this matter does not allow this."))


@functools.cache
def _gates(paths: tuple[str, ...]) -> tuple:
    return tuple(import_string(path) for path in paths)


def matter_gates():
    """The conditions besides a grant that a matter's classification imposes (setting
    ``ACCESS_MATTER_GATES``): each is ``gate(user, classification)`` answering None or
    ``(reason, remedy url, remedy label)``. The training app plugs in its compliance
    gate here, so access depends on no app above it."""
    return _gates(tuple(settings.ACCESS_MATTER_GATES))


def gate_refusal(user, classification: int) -> Decision | None:
    """Why ``user`` may not open a matter of ``classification`` although they hold a grant, or None."""
    for gate in matter_gates():
        refusal = gate(user, classification)
        if refusal is not None:
            reason, url, label = refusal
            return Decision(False, reason, remedy_url=url, remedy_label=label)
    return None


def gated_classification(obj: Matter | Document) -> int:
    """The classification a gate judges ``obj`` by: a document may be classified above its
    matter (never below), and then its own classification is the one that counts."""
    if isinstance(obj, Document):
        return max(obj.classification, obj.matter.classification)
    return obj.classification


def _gated(user, obj: Matter | Document) -> Decision | None:
    return gate_refusal(user, gated_classification(obj))


# What a refusal is recorded as when the caller does not say: the attempt each
# action stands for today (a view passes ``audit_as`` when it knows better).
_ATTEMPTED = {
    (Matter, Action.VIEW): AuditAction.MATTER_VIEW,
    (Document, Action.VIEW): AuditAction.DOCUMENT_VIEW,
    (Matter, Action.DOWNLOAD): AuditAction.DOCUMENT_DOWNLOAD,
    (Document, Action.DOWNLOAD): AuditAction.DOCUMENT_DOWNLOAD,
    (Matter, Action.EDIT): AuditAction.DOCUMENT_UPLOAD,
    (Document, Action.EDIT): AuditAction.DOCUMENT_UPLOAD,
    (Matter, Action.MANAGE): AuditAction.GRANT_CREATE,
    (Document, Action.MANAGE): AuditAction.GRANT_CREATE,
}

_NOTHING_THERE = _("Nothing exists with this id.")


def _require(
    user, action: Action | str, model: type[Matter | Document], pk, found, audit_as: str | None
) -> tuple[Matter | Document, GrantLevel]:
    """``found`` and ``user``'s level on it — or 404 for what ``user`` may not see (or what
    does not exist); 403 with a reason for what they see but may not do: its existence
    is no secret to them.

    Every refusal is recorded (audit.events keeps it although the request then
    fails and rolls back), naming the object when there is one, so the matter's
    own timeline shows who was turned away.
    """
    action = Action(action)
    attempted = audit_as or _ATTEMPTED[model, action]
    if found is None:
        record_event(
            attempted, outcome=Outcome.DENIED, actor=user, reason=_NOTHING_THERE, detail={"requested_id": str(pk)}
        )
        raise Http404
    level = level_on(user, found)
    decision = can(user, action, found, level=level)
    if decision:
        return found, level
    detail = {"screened": True} if decision.reason == SCREENED else None
    record_event(attempted, outcome=Outcome.DENIED, target=found, actor=user, reason=decision.reason, detail=detail)
    if level is not None:
        # The Decision itself, so the 403 page can offer its remedy (lawfirm.views.permission_denied).
        raise PermissionDenied(decision)
    raise Http404


def get_matter_for(user, pk, action: Action | str = Action.VIEW, *, audit_as: str | None = None) -> Matter:
    """The matter, if ``user`` may perform ``action`` on it.

    ``audit_as``: the audit action a refusal is recorded as (default: what
    ``action`` on a matter stands for, see ``_ATTEMPTED``).
    """
    return get_matter_with_level_for(user, pk, action, audit_as=audit_as)[0]


def get_matter_with_level_for(
    user, pk, action: Action | str = Action.VIEW, *, audit_as: str | None = None
) -> tuple[Matter, GrantLevel]:
    """:func:`get_matter_for`, with ``user``'s level on the matter: a page that also shows
    what else they may do there asks the grant tables once."""
    found = Matter.objects.select_related("client", "responsible_partner").filter(pk=pk).first()
    return _require(user, action, Matter, pk, found, audit_as)


def get_document_for(user, pk, action: Action | str = Action.VIEW, *, audit_as: str | None = None) -> Document:
    """The document, if ``user`` may perform ``action`` on its matter (``audit_as`` as for matters)."""
    found = Document.objects.select_related("matter__client").filter(pk=pk).first()
    return _require(user, action, Document, pk, found, audit_as)[0]


# Roles that may browse the matters open to requests (a vendor asks by number only).
BROWSING_ROLES = frozenset({Role.LAWYER.value, Role.PARTNER.value})


def requestable_matters(user) -> QuerySet[Matter]:
    """Matters ``user`` may see listed in order to ask for access: PUBLIC and INTERNAL ones
    they do not already see. CONFIDENTIAL and above are never listed to anyone without
    access — those are asked for by number (``access.access_requests``)."""
    if _ineligibility(user) is not None or not (BROWSING_ROLES & user.role_names()):
        return Matter.objects.none()
    direct, via_group = _grant_sources(user, Action.VIEW)
    matters = (
        Matter.objects.filter(classification__lt=Classification.CONFIDENTIAL)
        .exclude(status__in=(MatterStatus.CLOSED, MatterStatus.INTAKE))
        .exclude(pk__in=direct)
        .exclude(pk__in=via_group)
    )
    screen = screen_for(user)
    return matters.exclude(screened_q(screen)) if screen else matters
