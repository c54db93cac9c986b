"""Recording access events: the one function every service and view calls.

    record_event(AuditAction.MATTER_VIEW, target=matter)
    record_event(AuditAction.MATTER_VIEW, target=matter, outcome=Outcome.DENIED, reason=decision.reason)

Who, from where and in which session come from the request being served
(``AuditMiddleware`` makes it known); outside a request (jobs, commands) pass
``actor=`` or leave it empty for "the system".

Where the row goes depends on the event's kind (audit.actions.Kind):
- an ACCESS event (a read, a sign-in) or any refused or failed attempt, recorded while a view's
  transaction is open is kept aside and written when the request ends, outside
  that transaction — so it survives the view failing and rolling back;
- everything else is one plain INSERT now, in whatever transaction is open:
  a CHANGE event exists exactly when the change it describes does.
"""

from __future__ import annotations

import contextvars
import datetime
import functools
import hashlib
import ipaddress
import json
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

from audit.actions import Kind, Outcome, kind_of
from audit.models import AuditEvent

siem_logger = logging.getLogger("custos.audit.siem")

PAYLOAD_VERSION = 1
USER_AGENT_LIMIT = 256
REASON_LIMIT = 300


class AuditTarget(Protocol):
    """What an audited object tells about itself (matters, documents and clients implement it).

    Only identifiers and non-sensitive labels: ``client_id``, ``client_code``,
    ``matter_id``, ``matter_number``, ``document_id``, ``classification``.
    """

    def audit_target(self) -> Mapping[str, Any]: ...


@dataclass
class _RequestScope:
    request: Any
    pending: list[AuditEvent] = field(default_factory=list)


_scope: contextvars.ContextVar[_RequestScope | None] = contextvars.ContextVar("custos_audit_scope", default=None)

_SYSTEM = object()


def record_event(
    action: str,
    *,
    outcome: str = Outcome.SUCCESS,
    target: AuditTarget | None = None,
    actor: Any = _SYSTEM,
    reason: str = "",
    detail: Mapping[str, Any] | None = None,
    request: Any = None,
) -> AuditEvent:
    """Record that ``action`` happened (or was attempted) with ``outcome``.

    ``reason``: why it was denied or failed (a Decision's reason; shown to the
    security officer, so never client data). ``detail``: small JSON-able facts
    (counts, filters); never plaintext client data — see :func:`fingerprint`
    for search terms. ``actor``/``request`` default to the request being served.
    """
    scope = _scope.get()
    request = request if request is not None else (scope.request if scope else None)
    event = build_event(
        action, outcome=outcome, target=target, actor=actor, reason=reason, detail=detail, request=request
    )
    # A refused or failed attempt is evidence of an attempt, whatever it attempted:
    # kept aside like a read, so the rollback that follows cannot take it.
    attempt = kind_of(action) == Kind.ACCESS or outcome != Outcome.SUCCESS
    if scope is not None and attempt and connection.in_atomic_block:
        scope.pending.append(event)
    else:
        write_events([event])
    return event


def current_request():
    """The request being served (None in a job): for events built in bulk with :func:`build_event`."""
    scope = _scope.get()
    return scope.request if scope else None


def build_event(action, *, outcome, target, actor, reason, detail, request) -> AuditEvent:
    """The unsaved event with its canonical bytes."""
    if actor is _SYSTEM:
        actor = getattr(request, "user", None) if request is not None else None
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    about = dict(target.audit_target()) if target is not None else {}
    with translation.override("en"):
        reason_text = str(reason)[:REASON_LIMIT]
    occurred_at = timezone.now().astimezone(datetime.UTC)
    record = {
        "v": PAYLOAD_VERSION,
        "uid": str(uuid.uuid4()),
        "at": occurred_at.isoformat(timespec="microseconds"),
        "action": str(action),
        "outcome": str(outcome),
        "actor_id": actor.pk if actor is not None else None,
        "actor": actor.get_username() if actor is not None else (detail or {}).get("username", ""),
        "session": session_ref(request),
        "ip": client_ip(request),
        "ua": (request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:USER_AGENT_LIMIT],
        "client_id": _str_or_none(about.get("client_id")),
        "client_code": about.get("client_code", ""),
        "matter_id": _str_or_none(about.get("matter_id")),
        "matter_number": about.get("matter_number", ""),
        "document_id": _str_or_none(about.get("document_id")),
        "classification": about.get("classification"),
        "reason": reason_text,
        "detail": dict(detail or {}),
    }
    payload = canonical_bytes(record)
    return AuditEvent(
        occurred_at=occurred_at,
        action=record["action"],
        outcome=record["outcome"],
        actor_id=record["actor_id"],
        session_ref=record["session"],
        ip_address=record["ip"],
        client_id=record["client_id"],
        matter_id=record["matter_id"],
        document_id=record["document_id"],
        payload=payload,
    )


def canonical_bytes(record: Mapping[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same record always gives the same bytes."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def write_events(events: Iterable[AuditEvent]) -> None:
    """INSERT the events (one statement) and hand them to the SIEM feed."""
    events = list(events)
    if not events:
        return
    if connection.features.can_return_rows_from_bulk_insert:
        _insert(events)
    else:
        AuditEvent.objects.bulk_create(events)
    if siem_logger.isEnabledFor(logging.INFO):
        for event in events:
            siem_logger.info(bytes(event.payload).decode())


@functools.cache
def _insert_columns() -> tuple:
    return tuple(field for field in AuditEvent._meta.concrete_fields if field.name not in ("id", "recorded_at"))


def _insert(events: list[AuditEvent]) -> None:
    """One plain INSERT … RETURNING id, built here rather than by ``Model.save()``:
    this is on every request's path, and save()'s machinery cost more than the
    statement (0.3 ms of 1.2 ms measured; bench/README.md, Audit)."""
    fields = _insert_columns()
    quote = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row] * len(events))} RETURNING {quote('id')}"
    )  # only our own table and column names are formatted in; every value is a parameter
    params = [field.get_db_prep_save(getattr(event, field.attname), connection) for event in events for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for event, (pk,) in zip(events, cursor.fetchall(), strict=True):
            event.pk = pk
            event._state.adding = False


def fingerprint(text: str) -> str:
    """A keyed fingerprint of a search term: equal terms match, the term itself is not kept.

    Normalised (case, surrounding space) so the security officer can ask "did
    anyone search for X?" by fingerprinting X the same way.
    """
    normal = " ".join(text.casefold().split())
    return salted_hmac("custos.audit.search-term", normal, algorithm="sha256").hexdigest()[:32]


def session_ref(request) -> str:
    """A stable reference to the session that is not its key (which would let a reader hijack it)."""
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None) if session is not None else None
    if not key:
        return ""
    return hashlib.sha256(f"custos.audit.session:{key}".encode()).hexdigest()[:16]


def client_ip(request) -> str | None:
    if request is None:
        return None
    resolver = getattr(settings, "AUDIT_CLIENT_IP_CALLABLE", "")
    address = import_string(resolver)(request) if resolver else request.META.get("REMOTE_ADDR")
    try:  # normalised as the database stores it; PostgreSQL's inet refuses anything else
        return str(ipaddress.ip_address(address.split("%", 1)[0])) if address else None
    except ValueError:
        return None


def _str_or_none(value) -> str | None:
    return None if value is None else str(value)


class request_scope:
    """Makes ``request`` the one events are attributed to, and writes the events
    kept aside for it when the block ends (after the view's transaction)."""

    def __init__(self, request):
        self.scope = _RequestScope(request)

    def __enter__(self) -> _RequestScope:
        self.token = _scope.set(self.scope)
        return self.scope

    def __exit__(self, *exc) -> None:
        _scope.reset(self.token)

    def flush(self) -> None:
        pending, self.scope.pending = self.scope.pending, []
        write_events(pending)
