"""Ethical walls as the policy reads them: who a live wall screens from which matters.

A wall around a matter, or around every matter of a client, screens:
- exclusionary: the people it names, directly or through a group;
- inclusionary: everyone it does not name.
The policy (``access.policy``) asks here after the grant tables, and a wall always
wins: no grant, team, role or emergency access passes it. One query answers a
person's walls for a page; the list excludes the matters and clients it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Exists, OuterRef, Q

from access.models import EthicalWall, User, WallAcknowledgement, WallKind, WallMember


class PendingWall(NamedTuple):
    """An inclusionary wall that names the person but whose memo they have not acknowledged yet."""

    pk: object
    matter_id: object
    client_id: object


@dataclass(frozen=True)
class Screen:
    """What the live walls keep from one person: matters, and clients whose every matter."""

    matter_ids: frozenset
    client_ids: frozenset
    # Inclusionary walls that name the person but whose memo they must still acknowledge.
    unacknowledged: tuple[PendingWall, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.matter_ids or self.client_ids)

    def covers(self, matter) -> bool:
        return matter.pk in self.matter_ids or matter.client_id in self.client_ids

    def pending_for(self, matter) -> PendingWall | None:
        """The wall whose memo the person must acknowledge before opening ``matter``, or None."""
        return next(
            (w for w in self.unacknowledged if w.matter_id in (None, matter.pk) and w.client_id == matter.client_id),
            None,
        )


def _names(user) -> Q:
    """A wall member row naming ``user``, directly or through one of their groups."""
    groups = User.groups.through.objects.filter(user_id=user.pk).values("group_id")
    return Q(user_id=user.pk) | Q(group_id__in=groups)


def screen_of(user, *, matter=None) -> Screen:
    """The live walls that screen ``user`` (only those around ``matter`` when given): one query.

    The database keeps only the walls that concern the person — exclusionary walls naming
    them, inclusionary walls not naming them, inclusionary walls awaiting their
    acknowledgement — and sends plain rows: with a thousand walls in force, building every
    wall as an object on each request cost more than the rest of the matter list (bench/README.md, Walls).
    """
    walls = EthicalWall.objects.live().annotate(
        named=Exists(WallMember.objects.filter(_names(user), wall_id=OuterRef("pk"))),
        acknowledged=Exists(WallAcknowledgement.objects.filter(wall_id=OuterRef("pk"), user_id=user.pk)),
    )
    walls = walls.filter(
        Q(kind=WallKind.EXCLUSIONARY, named=True)
        | Q(kind=WallKind.INCLUSIONARY, named=False)
        | Q(kind=WallKind.INCLUSIONARY, requires_acknowledgement=True, acknowledged=False)
    )
    if matter is not None:
        walls = walls.filter(Q(matter_id=matter.pk) | Q(matter__isnull=True, client_id=matter.client_id))
    matter_ids, client_ids, pending = set(), set(), []
    for pk, kind, matter_id, client_id, named in walls.order_by().values_list(
        "pk", "kind", "matter_id", "client_id", "named"
    ):
        if (kind == WallKind.EXCLUSIONARY) == named:  # named by an exclusionary wall, or not by an inclusionary one
            (matter_ids.add(matter_id) if matter_id else client_ids.add(client_id))
        else:
            pending.append(PendingWall(pk, matter_id, client_id))
    return Screen(frozenset(matter_ids), frozenset(client_ids), tuple(pending))


def screened_q(screen: Screen) -> Q:
    """The matters a screen keeps out, as a filter to exclude."""
    return Q(pk__in=screen.matter_ids) | Q(client_id__in=screen.client_ids)
