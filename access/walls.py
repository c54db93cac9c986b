"""Ethical walls as the policy reads them: who a live wall screens from which matters.

A wall around a matter, or around every matter of a client, screens:
- exclusionary: the people it names, directly or through a group;
- inclusionary: everyone it does not name.
The policy (``access.policy``) asks here after the grant tables, and a wall always
wins: no grant, team, role or emergency access passes it. One query answers a
person's walls for a page; the list excludes the matters and clients it names.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection
from django.db.models import F, Lookup, Q
from django.db.models.expressions import RawSQL

from access.models import EthicalWall, User, WallAcknowledgement, WallKind, WallMember
from matters.models import ConflictCheck, ConflictStatus, Matter


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
        return self.covers_ids(matter.pk, matter.client_id)

    def covers_ids(self, matter_id, client_id) -> bool:
        return matter_id in self.matter_ids or client_id in self.client_ids

    def pending_for(self, matter) -> PendingWall | None:
        """The wall whose memo the person must acknowledge before opening ``matter``, or None."""
        return next(
            (w for w in self.unacknowledged if w.matter_id in (None, matter.pk) and w.client_id == matter.client_id),
            None,
        )


def screen_of(user) -> Screen:
    """The live walls that screen ``user``, and their pending lateral conflict check: one query.

    The database keeps only what concerns the person — exclusionary walls naming them,
    inclusionary walls not naming them, inclusionary walls awaiting their acknowledgement,
    and the clients their pending lateral-hire conflict check found — and sends plain rows.
    With a thousand walls in force, building every wall as an object on each request cost
    more than the rest of the matter list, and the ORM took longer to compile this query than
    the database to run it (bench/README.md, Walls): hence the SQL, written once per process.
    """
    pk = user.pk
    with connection.cursor() as cursor:
        # Only our own constant SQL is formatted in (screen_ctes); the person is a parameter.
        cursor.execute(f"WITH {screen_ctes(connection.vendor)} SELECT * FROM screen", [pk] * 4)  # noqa: S608
        rows = cursor.fetchall()
    if not connection.features.has_native_uuid_field:
        rows = [(*(_uuid(value) for value in row[:3]), row[3]) for row in rows]
    matter_ids, client_ids, pending = set(), set(), []
    for wall_id, matter_id, client_id, awaiting in rows:
        if awaiting:
            pending.append(PendingWall(wall_id, matter_id, client_id))
        elif matter_id is not None:
            matter_ids.add(matter_id)
        else:
            client_ids.add(client_id)
    return Screen(frozenset(matter_ids), frozenset(client_ids), tuple(pending))


def _uuid(value):
    return None if value is None else uuid.UUID(str(value))


# The person's id fills each %s. One pass over the live walls, each joined to whether a member
# row names the person (directly or through a group): exclusionary walls naming them;
# inclusionary walls not naming them; inclusionary walls naming them whose memo awaits their
# acknowledgement (last column 1). Then the clients their pending lateral-hire check found.
_SCREEN_SQL = """
named AS (
  SELECT m.{member_wall} AS wall_id FROM {member} m WHERE m.{member_user} = %s
  UNION SELECT m.{member_wall} FROM {member} m JOIN {membership} g ON g.{membership_group} = m.{member_group}
   WHERE g.{membership_user} = %s
),
screen (wall_id, matter_id, client_id, awaiting) AS (
SELECT w.{wall_pk}, w.{wall_matter}, w.{wall_client},
       CASE WHEN w.{kind} = '{inclusionary}' AND n.wall_id IS NOT NULL THEN 1 ELSE 0 END
  FROM {wall} w LEFT JOIN named n ON n.wall_id = w.{wall_pk}
 WHERE w.{lifted_at} IS NULL AND (
       (w.{kind} = '{exclusionary}' AND n.wall_id IS NOT NULL)
    OR (w.{kind} = '{inclusionary}' AND n.wall_id IS NULL)
    OR (w.{kind} = '{inclusionary}' AND w.{requires_ack} AND n.wall_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM {ack} a WHERE a.{ack_wall} = w.{wall_pk} AND a.{ack_user} = %s)))
UNION ALL
SELECT NULL, NULL, h.{hit_client}, 0 FROM {hit_clients} h JOIN {check} c ON c.{check_pk} = h.{hit_check}
 WHERE c.{check_person} = %s AND c.{check_status} = '{pending}'
)"""


@functools.cache
def screen_ctes(vendor: str) -> str:
    """The screen as common table expressions for this process's database, ending in ``screen``:
    each row (wall, matter, client, awaiting acknowledgement), the person's id filling the four
    %s. :func:`screen_of` reads it; the matter list's count (``access.policy``) subtracts it in
    the same statement. Only quoted table and column names of our own models, and our own
    constants, are formatted in."""
    quote = connection.ops.quote_name
    wall, member, ack = EthicalWall._meta, WallMember._meta, WallAcknowledgement._meta
    membership, check = User.groups.through._meta, ConflictCheck._meta
    hits = ConflictCheck.hit_clients.through._meta

    def column(meta, field: str) -> str:
        return quote(meta.get_field(field).column)

    names = {
        "wall": quote(wall.db_table),
        "wall_pk": quote(wall.pk.column),
        "wall_matter": column(wall, "matter"),
        "wall_client": column(wall, "client"),
        "lifted_at": column(wall, "lifted_at"),
        "kind": column(wall, "kind"),
        "requires_ack": column(wall, "requires_acknowledgement"),
        "exclusionary": WallKind.EXCLUSIONARY.value,
        "inclusionary": WallKind.INCLUSIONARY.value,
        "member": quote(member.db_table),
        "member_wall": column(member, "wall"),
        "member_user": column(member, "user"),
        "member_group": column(member, "group"),
        "membership": quote(membership.db_table),
        "membership_group": column(membership, "group"),
        "membership_user": column(membership, "user"),
        "ack": quote(ack.db_table),
        "ack_wall": column(ack, "wall"),
        "ack_user": column(ack, "user"),
        "hit_clients": quote(hits.db_table),
        "hit_client": column(hits, "client"),
        "hit_check": column(hits, "conflictcheck"),
        "check": quote(check.db_table),
        "check_pk": quote(check.pk.column),
        "check_person": column(check, "person"),
        "check_status": column(check, "status"),
        "pending": ConflictStatus.PENDING.value,
    }
    return _SCREEN_SQL.format(**names)


def screened_matter_ids(user) -> RawSQL:
    """The ids of the matters ``user``'s screen keeps out, as a subquery (``pk__in=``): the screen
    read inside the caller's own statement, for pages that need no screen of their own."""
    matter = Matter._meta
    quote = connection.ops.quote_name
    client = quote(matter.get_field("client").column)
    # Only our own constant SQL and quoted names are formatted in; the person is a parameter.
    sql = (
        f"WITH {screen_ctes(connection.vendor)} SELECT m.{quote(matter.pk.column)} "  # noqa: S608
        f"FROM {quote(matter.db_table)} m "
        f"WHERE m.{quote(matter.pk.column)} IN (SELECT matter_id FROM screen WHERE awaiting = 0) "
        f"OR m.{client} IN (SELECT client_id FROM screen WHERE awaiting = 0 AND matter_id IS NULL)"
    )
    return RawSQL(sql, [user.pk] * 4)  # noqa: S611 - constant SQL, the id a parameter


class _InArray(Lookup):
    """``column = ANY(%s::type[])``: a screen's ids as one array parameter (PostgreSQL), where
    ``IN (%s, %s, …)`` makes Django build, and PostgreSQL plan, one parameter per id."""

    lookup_name = "in_array"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::{self.lhs.output_field.db_type(connection)}[])", (*lhs_params, list(self.rhs))


def screened_q(screen: Screen) -> Q:
    """The matters a screen keeps out, as a filter to exclude."""
    if connection.vendor == "postgresql":
        return Q(_InArray(F("pk"), screen.matter_ids)) | Q(_InArray(F("client_id"), screen.client_ids))
    return Q(pk__in=screen.matter_ids) | Q(client_id__in=screen.client_ids)
