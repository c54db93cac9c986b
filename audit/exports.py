"""Exports of audit events: CSV for a spreadsheet, JSON Lines for other tools.

Both stream in event-id order, a chunk of rows at a time, so an export of a
hundred thousand events never sits in memory. JSON Lines gives each event's
canonical bytes exactly as stored (and as hashed into the chain); CSV spreads
the same record over columns.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from audit.models import AuditEvent
from audit.selectors import link_of

EXPORT_LIMIT = 100_000
CHUNK = 2000

CSV_COLUMNS = (
    "id", "position", "at", "action", "outcome", "actor_id", "actor", "session", "ip", "ua", "client_id",
    "client_code", "matter_id", "matter_number", "document_id", "classification", "reason", "detail", "uid", "v",
)  # fmt: skip
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """A file-like sink for csv.writer that hands back what was written."""

    def write(self, text: str) -> str:
        return text


def _rows(events: QuerySet[AuditEvent]) -> Iterator[AuditEvent]:
    yield from events.order_by("id")[:EXPORT_LIMIT].iterator(chunk_size=CHUNK)


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text: a leading formula character is escaped with '."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(events: QuerySet[AuditEvent]) -> Iterable[str]:
    writer = csv.writer(_Line())
    yield "\ufeff"  # a byte-order mark, so spreadsheet programs read the file as UTF-8 (Chinese included)
    yield writer.writerow(CSV_COLUMNS)
    for event in _rows(events):
        try:
            record = event.record
        except ValueError:
            record = {"action": event.action, "outcome": event.outcome, "reason": "(unreadable record)"}
        link = link_of(event)
        values = {**record, "id": event.pk, "position": link.seq if link is not None else ""}
        yield writer.writerow([safe_cell(values.get(column)) for column in CSV_COLUMNS])


def jsonl_lines(events: QuerySet[AuditEvent]) -> Iterable[bytes]:
    for payload in events.order_by("id").values_list("payload", flat=True)[:EXPORT_LIMIT].iterator(chunk_size=CHUNK):
        yield bytes(payload) + b"\n"
