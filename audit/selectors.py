"""Reads for the review screens: the filtered event queryset and keyset pagination.

Pages are cut by event id (newest first), never by OFFSET and never with a
COUNT(*): the event table grows without bound, and "the 50 events before id N"
is one index range scan however deep the officer pages.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent, AuditLink

PAGE_SIZE = 50


@dataclass(frozen=True)
class EventFilter:
    """What the officer asked for, already resolved to the event table's columns."""

    actor_id: int | None = None
    matter_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = None
    action: str = ""
    outcome: str = ""
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None  # exclusive
    term_fingerprint: str = ""
    # Non-column labels kept for the record of the review (audit.view / audit.export).
    labels: dict[str, Any] = field(default_factory=dict)

    def apply(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.actor_id is not None:
            events = events.filter(actor_id=self.actor_id)
        if self.matter_id is not None:
            events = events.filter(matter_id=self.matter_id)
        if self.client_id is not None:
            events = events.filter(client_id=self.client_id)
        if self.action:
            events = events.filter(action=self.action)
        if self.outcome:
            events = events.filter(outcome=self.outcome)
        if self.network is not None:
            events = _in_network(events, self.network)
        if self.since is not None:
            events = events.filter(occurred_at__gte=self.since)
        if self.until is not None:
            events = events.filter(occurred_at__lt=self.until)
        if self.term_fingerprint:
            # The fingerprint (32 hex digits, keyed) occurs only where that term was recorded,
            # whichever detail key holds it. A scan of the rows the other filters leave.
            events = events.filter(_payload_contains(f'"{self.term_fingerprint}"'.encode()))
        return events

    def as_detail(self) -> dict[str, Any]:
        """The filters as recorded in the review's own audit event: ids and codes, never a plaintext term."""
        detail = {
            "actor_id": self.actor_id,
            "matter_id": str(self.matter_id) if self.matter_id else None,
            "client_id": str(self.client_id) if self.client_id else None,
            "action": self.action,
            "outcome": self.outcome,
            "ip": str(self.network) if self.network is not None else "",
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "term": self.term_fingerprint,
            **self.labels,
        }
        return {key: value for key, value in detail.items() if value not in (None, "")}


def _payload_contains(needle: bytes) -> RawSQL:
    # Not ``payload__contains``: Django builds its LIKE pattern from str(bytes), "b'…'".
    if connection.vendor == "postgresql":
        return RawSQL('position(%s::bytea in "audit_event"."payload") > 0', [needle], output_field=BooleanField())
    return RawSQL('instr("audit_event"."payload", %s) > 0', [needle], output_field=BooleanField())


def _in_network(events: QuerySet[AuditEvent], network) -> QuerySet[AuditEvent]:
    if network.num_addresses == 1:
        return events.filter(ip_address=str(network.network_address))
    if connection.vendor == "postgresql":
        # inet containment: the column is PostgreSQL's inet type.
        condition = RawSQL('"audit_event"."ip_address" <<= %s::inet', [str(network)], output_field=BooleanField())
        return events.filter(condition)
    # Elsewhere the address is text: an IPv4 network on whole octets is a prefix of it
    # (forms.EventFilterForm accepts no other network there).
    octets = network.prefixlen // 8
    prefix = ".".join(str(network.network_address).split(".")[:octets]) + "."
    return events.filter(ip_address__startswith=prefix)


def network_supported(network) -> bool:
    """Whether this database can filter by ``network`` (see :func:`_in_network`)."""
    if network.num_addresses == 1 or connection.vendor == "postgresql":
        return True
    return network.version == 4 and network.prefixlen % 8 == 0


class EventRow:
    """An event as the review lists show it, read from a few cheap columns and its recorded bytes.

    Full model instances (three UUIDs, an address and two timestamps converted per
    row) cost three times as much to read as the query itself: the "last 50 events"
    of a person or matter is measured in bench/README.md, Audit. Matter, document
    and address come from the record, which is what verification vouches for.
    """

    __slots__ = ("_record", "action", "actor_id", "id", "occurred_at", "outcome", "payload", "pk")

    def __init__(self, pk, occurred_at, action, outcome, actor_id, payload):
        self.pk = self.id = pk
        self.occurred_at, self.action, self.outcome, self.actor_id = occurred_at, action, outcome, actor_id
        self.payload = payload
        self._record = None

    @property
    def record(self) -> dict:
        """The decoded record ({} if its bytes no longer decode), decoded when first shown."""
        if self._record is None:
            try:
                record = json.loads(bytes(self.payload))
            except ValueError:
                record = {}
            self._record = record if isinstance(record, dict) else {}
        return self._record

    @property
    def matter_id(self) -> str | None:
        return self.record.get("matter_id")

    @property
    def document_id(self) -> str | None:
        return self.record.get("document_id")

    @property
    def ip_address(self) -> str | None:
        return self.record.get("ip")

    def get_action_display(self) -> str:
        return AuditAction(self.action).label if self.action in AuditAction.values else self.action

    def get_outcome_display(self) -> str:
        return Outcome(self.outcome).label if self.outcome in Outcome.values else self.outcome


_ROW_COLUMNS = ("id", "occurred_at", "action", "outcome", "actor_id", "payload")


def _rows(events: QuerySet[AuditEvent]) -> list[EventRow]:
    return [EventRow(*values) for values in events.values_list(*_ROW_COLUMNS)]


@dataclass
class EventPage:
    """One page of events, newest first, and the cursors either side of it."""

    events: list[EventRow]
    newer: int | None  # ?after=<id> for the page of newer events
    older: int | None  # ?before=<id> for the page of older events

    @property
    def has_other_pages(self) -> bool:
        return self.newer is not None or self.older is not None


def keyset_page(
    events: QuerySet[AuditEvent], *, before: int | None = None, after: int | None = None, size: int = PAGE_SIZE
) -> EventPage:
    """The ``size`` events just older than ``before``, just newer than ``after``, or the newest.

    Whether there is more on either side is one indexed EXISTS each, not a count.
    """
    if after is not None:
        rows = _rows(events.filter(id__gt=after).order_by("id")[: size + 1])
        if not rows:  # nothing newer any more (the filters changed): start from the newest
            return keyset_page(events, size=size)
        newer = rows[size - 1].pk if len(rows) > size else None
        rows = rows[:size][::-1]
        older = rows[-1].pk if events.filter(id__lt=rows[-1].pk).exists() else None
        return EventPage(rows, newer=newer, older=older)
    page = events.filter(id__lt=before) if before is not None else events
    rows = _rows(page.order_by("-id")[: size + 1])
    older = rows[size - 1].pk if len(rows) > size else None
    rows = rows[:size]
    newer = None
    if before is not None:
        top = rows[0].pk if rows else before - 1
        newer = top if events.filter(id__gt=top).exists() else None
    return EventPage(rows, newer=newer, older=older)


def events_for_review() -> QuerySet[AuditEvent]:
    """Events with their chain link, for the list, the timelines and the exports."""
    return AuditEvent.objects.select_related("link")


def link_of(event: AuditEvent) -> AuditLink | None:
    """The event's place in the chain, or None while it awaits chaining."""
    try:
        return event.link
    except AuditLink.DoesNotExist:
        return None
