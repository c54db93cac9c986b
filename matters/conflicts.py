"""The conflict check: searched names and identifiers against every existing client, client
alias and party, by exact blind-index match (vault.blind: case, width and spacing do not
matter; nothing near or partial matches).

A hit names an existing matter by its number, its client's code and the role the matching
record plays there — never a name or a title: nothing here decrypts anything. The whole
check is two queries, however many names are searched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict

from django.db.models import Q

from matters.models import Matter, Party, PartyRole, PriorEngagement
from vault.blind import blind_index
from vault.services import reindex_blind


class Hit(TypedDict):
    matter_id: str
    matter_number: str
    client_code: str
    role: str  # the existing record's role there: client / adverse / related
    matched: str  # "name" or "identifier"
    searched: str  # the searched entry's label ("adverse party 2")
    searched_role: str


@dataclass(frozen=True)
class Searched:
    """One searched entry, by its blind indexes (an empty index matches nothing)."""

    label: str
    role: str
    name_index: str = ""
    id_index: str = ""

    @classmethod
    def of(cls, label: str, role: str, name: str | None, id_number: str | None) -> Searched:
        return cls(label, role, blind_index(name, "name"), blind_index(id_number, "identifier"))


# When one searched entry meets a matter more than once (its client, and also a party there),
# the hit keeps the most telling: the client before an adverse party before a related one,
# an identifier before a name.
_ROLE_RANK = {PartyRole.CLIENT: 0, PartyRole.ADVERSE: 1, PartyRole.RELATED: 2}
_MATCH_RANK = {"identifier": 0, "name": 1}


def run_check(*, names: Sequence[tuple[str, str, str, str]], exclude_matter: Matter | None = None) -> list[Hit]:
    """Search ``names`` — ``(label, role, name, id number)`` — against existing clients,
    aliases and parties; one hit per (matter, searched entry). ``exclude_matter``: the
    matter being opened, which must not find itself."""
    return check_indexes([Searched.of(*entry) for entry in names], exclude_matter=exclude_matter)


def check_indexes(entries: Sequence[Searched], *, exclude_matter: Matter | None = None) -> list[Hit]:
    """:func:`run_check` on entries already reduced to their indexes (an existing client's,
    a lateral hire's prior engagements — whose names were never stored)."""
    by_name, by_id = defaultdict(set), defaultdict(set)
    for position, entry in enumerate(entries):
        if entry.name_index:
            by_name[entry.name_index].add(position)
        if entry.id_index:
            by_id[entry.id_index].add(position)
    if not by_name and not by_id:
        return []
    best: dict[tuple[str, int], tuple[tuple[int, int], Hit]] = {}
    for matter_id, number, code, role, matches in _matches(by_name, by_id, exclude_matter):
        for position, matched in matches:
            entry = entries[position]
            hit = Hit(
                matter_id=str(matter_id),
                matter_number=number,
                client_code=code,
                role=role,
                matched=matched,
                searched=entry.label,
                searched_role=entry.role,
            )
            rank = (_ROLE_RANK.get(role, 3), _MATCH_RANK[matched])
            key = (hit["matter_id"], position)
            if key not in best or rank < best[key][0]:
                best[key] = (rank, hit)
    ordered = sorted(best.items(), key=lambda item: (item[0][1], item[1][1]["matter_number"]))
    return [hit for _key, (_rank, hit) in ordered]


def _matches(by_name: dict, by_id: dict, exclude_matter: Matter | None) -> Iterable[tuple]:
    """``(matter id, number, client code, role, [(entry position, "name"|"identifier")])`` for
    every existing record an index matches: clients (their every matter) and their aliases in
    one query, parties in another."""
    names, ids = set(by_name), set(by_id)

    def positions(name_index: str, id_index: str) -> list[tuple[int, str]]:
        return [(p, "name") for p in by_name.get(name_index, ())] + [(p, "identifier") for p in by_id.get(id_index, ())]

    client_q, party_q = Q(), Q()
    if names:
        client_q |= Q(client__name_index__in=names) | Q(client__aliases__name_index__in=names)
        party_q |= Q(name_index__in=names)
    if ids:
        client_q |= Q(client__id_number_index__in=ids)
        party_q |= Q(id_number_index__in=ids)
    # A client with aliases comes back once per alias (a LEFT JOIN): each row is matched on
    # its own, and the hits are merged by matter and entry.
    clients = (
        Matter.objects.filter(client_q)
        .order_by()
        .values_list(
            "pk",
            "number",
            "client__code",
            "client__name_index",
            "client__id_number_index",
            "client__aliases__name_index",
        )
    )
    parties = (
        Party.objects.filter(party_q)
        .order_by()
        .values_list("matter_id", "matter__number", "matter__client__code", "role", "name_index", "id_number_index")
    )
    if exclude_matter is not None:
        # The new matter, and every other matter of its own client: acting again for a client is
        # no conflict with acting for it before, and listing those matters would show the intake
        # lawyer numbers they may not see.
        clients = clients.exclude(client_id=exclude_matter.client_id)
        parties = parties.exclude(matter__client_id=exclude_matter.client_id)
    for matter_id, number, code, name_index, id_index, alias_index in clients:
        found = positions(name_index, id_index) + [(p, "name") for p in by_name.get(alias_index or "", ())]
        yield matter_id, number, code, PartyRole.CLIENT.value, found
    for matter_id, number, code, role, name_index, id_index in parties:
        yield matter_id, number, code, role, positions(name_index, id_index)


def reindex_names(*, batch_size: int = 500) -> dict[str, int]:
    """Recompute the blind indexes of clients, aliases and parties after the normalization
    changed (``vault.services.reindex_blind``), and carry lateral hires' prior engagements along.

    A prior engagement keeps only its index, never the name, so it cannot be recomputed. One
    that matched a record before takes that record's new index (equal names before are equal
    after: the new normalization only folds more), so a pending lateral check still finds what
    it found. One that matched nothing stays as it is: record it again to match it the new way.
    """
    renamed: dict[str, str] = {}
    counts = reindex_blind(batch_size=batch_size, renamed=renamed)
    carried = 0
    for engagement in PriorEngagement.objects.filter(name_index__in=list(renamed)).only("pk", "name_index"):
        PriorEngagement.objects.filter(pk=engagement.pk).update(name_index=renamed[engagement.name_index])
        carried += 1
    return {**counts, "prior_engagements": carried}
