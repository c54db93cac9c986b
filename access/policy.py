"""The authorization policy: the one place that answers "may this person …?".

Every view, list, export and search asks through these functions; nothing else
filters matters by hand. Deny by default: a matter is visible only through a
live grant, to the person or to one of their groups. No role — administrator,
security officer or superuser — bypasses a missing grant. What a person may not
see answers 404, the same as what does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from access.models import GrantLevel, MatterGroupGrant, MatterUserGrant, User
from matters.models import Document, Matter


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


def _grant_q(action: Action, matter_q: Q | None, at) -> Q:
    """Grants in force at ``at``, of at least the level ``action`` needs, on matters matching ``matter_q``."""
    grant_q = Q(expires_at__isnull=True) | Q(expires_at__gt=at)
    if action != Action.VIEW:
        # Every level includes viewing, so only stronger actions look at the level.
        grant_q &= Q(permission__codename__in=GrantLevel.at_least(action.minimum_level))
    if matter_q is not None:
        grant_q &= _prefixed(matter_q, "content_object__")
    return grant_q


def _prefixed(q: Q, prefix: str) -> Q:
    """The same condition, written from a grant row's point of view."""
    clone = Q()
    clone.connector, clone.negated = q.connector, q.negated
    clone.children = [
        _prefixed(child, prefix) if isinstance(child, Q) else (prefix + child[0], child[1]) for child in q.children
    ]
    return clone


def granted_matter_ids(user, action: Action = Action.VIEW, matter_q: Q | None = None, at=None) -> QuerySet:
    """Ids of the matters ``user`` holds a live grant on, directly or through a group.

    A UNION of two index range scans on the grant tables; callers use it as a
    subquery, or count it — the list's count never scans the matter table.
    """
    grant_q = _grant_q(action, matter_q, at or timezone.now())
    direct = MatterUserGrant.objects.filter(grant_q, user=user).values("content_object_id")
    memberships = User.groups.through.objects.filter(user_id=user.pk).values("group_id")
    via_group = MatterGroupGrant.objects.filter(grant_q, group_id__in=memberships).values("content_object_id")
    return direct.union(via_group)


def visible_matters(user, action: Action = Action.VIEW, matter_q: Q | None = None) -> QuerySet[Matter]:
    """The matters ``user`` may act on, as a queryset filtered in the database."""
    if _ineligibility(user) is not None:
        return Matter.objects.none()
    return Matter.objects.filter(pk__in=granted_matter_ids(user, action, matter_q))


def count_visible_matters(user, action: Action = Action.VIEW, matter_q: Q | None = None) -> int:
    """How many matters ``visible_matters`` holds, counted from the grant tables."""
    if _ineligibility(user) is not None:
        return 0
    return granted_matter_ids(user, action, matter_q).count()


def can(user, action: Action | str, obj: Matter | Document) -> Decision:
    action = Action(action)
    refusal = _ineligibility(user)
    if refusal is not None:
        return refusal
    matter_id = obj.matter_id if isinstance(obj, Document) else obj.pk
    if granted_matter_ids(user, action, Q(pk=matter_id)).exists():
        return Decision(True, _("Granted."))
    if action == Action.VIEW:
        return Decision(False, _("You have no access to this matter."))
    return Decision(False, _("Your access to this matter does not allow this."))


def _require(user, action: Action | str, obj: Matter | Document | None):
    """404 for what ``user`` may not see (or what does not exist); 403 with a reason
    for what they see but may not do — its existence is no secret to them."""
    if obj is None:
        raise Http404
    decision = can(user, action, obj)
    if decision:
        return obj
    if Action(action) != Action.VIEW and can(user, Action.VIEW, obj):
        raise PermissionDenied(decision.reason)
    raise Http404


def get_matter_for(user, pk, action: Action | str = Action.VIEW) -> Matter:
    """The matter, if ``user`` may perform ``action`` on it."""
    return _require(user, action, Matter.objects.select_related("client", "responsible_partner").filter(pk=pk).first())


def get_document_for(user, pk, action: Action | str = Action.VIEW) -> Document:
    """The document, if ``user`` may perform ``action`` on its matter."""
    return _require(user, action, Document.objects.select_related("matter").filter(pk=pk).first())
