"""Exports of the review screen: CSV and JSON Lines, filtered, streamed, safe, and themselves recorded."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from audit import exports
from audit.actions import AuditAction, Outcome
from audit.events import fingerprint, record_event
from audit.models import AuditEvent
from tests.audit import test_review
from tests.audit.test_review import SECRETS, SEEDED_WEEK, from_ip
from tests.conftest import signed_in

# The review tests' week of events, shared.
bluefin = test_review.bluefin
seeded = test_review.seeded

EXPORT_URL = reverse("audit:export")


def download(client, **params):
    response = client.get(EXPORT_URL, params)
    assert response.status_code == 200, response.status_code
    assert response.streaming
    return response, b"".join(response.streaming_content)


def csv_rows(body: bytes) -> list[dict]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff"), "a byte-order mark, so spreadsheets read UTF-8"
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_csv_export_has_the_filtered_events_oldest_first_with_their_fields(client, dana, seeded, bluefin):
    signed_in(client, dana)
    response, body = download(client, format="csv", matter=bluefin.number, **SEEDED_WEEK)
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="custos-audit-events-')
    assert "no-store" in response["Cache-Control"]
    rows = csv_rows(body)
    expected = [seeded[name] for name in ("alice_view", "bob_download", "charlie_denied")]
    assert [int(row["id"]) for row in rows] == [event.pk for event in expected]
    denied = rows[2]
    assert denied["actor"] == "charlie"
    assert denied["action"] == AuditAction.MATTER_VIEW
    assert denied["outcome"] == Outcome.DENIED
    assert denied["matter_number"] == bluefin.number
    assert denied["client_code"] == bluefin.client.code
    assert denied["ip"] == "192.0.2.50"
    assert denied["reason"] == "no grant on this matter"
    assert denied["at"] == seeded["charlie_denied"].record["at"]
    assert rows[1]["document_id"] == str(bluefin.document.pk)
    assert denied["position"] == "", "not chained yet"


def test_csv_cells_cannot_run_as_spreadsheet_formulas(client, dana, alice, matter):
    record_event(
        AuditAction.SIGN_IN_FAILED,
        actor=None,
        outcome=Outcome.FAILURE,
        reason='=HYPERLINK("http://evil.example","click")',
        detail={"username": "@SUM(A1:A9)"},
        request=from_ip("198.51.100.4"),
    )
    record_event(AuditAction.MATTER_VIEW, actor=alice, target=matter, reason="+1 and -1 are not formulas either")
    record_event(AuditAction.MATTER_VIEW, actor=alice, target=matter, reason="-2")
    signed_in(client, dana)
    rows = csv_rows(download(client, format="csv", action=AuditAction.SIGN_IN_FAILED)[1])
    assert rows[0]["reason"] == '\'=HYPERLINK("http://evil.example","click")'
    assert rows[0]["actor"] == "'@SUM(A1:A9)"
    rows = csv_rows(download(client, format="csv", person="alice", action=AuditAction.MATTER_VIEW)[1])
    assert [row["reason"] for row in rows] == ["'+1 and -1 are not formulas either", "'-2"]
    for row in rows:
        for value in row.values():
            assert not value.startswith(exports.FORMULA_STARTS), value


def test_json_lines_export_is_the_stored_records_byte_for_byte(client, dana, seeded):
    signed_in(client, dana)
    response, body = download(client, format="jsonl", person="alice")
    assert response["Content-Type"].startswith("application/x-ndjson")
    lines = body.splitlines()
    events = AuditEvent.objects.filter(actor__username="alice").order_by("id")
    assert lines == [bytes(event.payload) for event in events]
    assert [json.loads(line) for line in lines] == [event.record for event in events]
    assert {seeded["alice_view"].pk, seeded["alice_other"].pk, seeded["alice_search"].pk} <= {e.pk for e in events}


def test_an_export_is_recorded_with_its_format_and_filters_before_it_is_sent(client, dana, seeded, bluefin):
    signed_in(client, dana)
    download(client, format="jsonl", matter=bluefin.number, term="Bluefin", outcome="denied")
    recorded = AuditEvent.objects.get(action=AuditAction.AUDIT_EXPORT)
    record = recorded.record
    assert record["actor"] == "dana"
    assert record["outcome"] == Outcome.SUCCESS
    assert record["detail"]["format"] == "jsonl"
    assert record["detail"]["filters"] == {
        "matter_id": str(bluefin.pk),
        "matter_number": bluefin.number,
        "outcome": "denied",
        "term": fingerprint("Bluefin"),
    }
    assert "bluefin" not in bytes(recorded.payload).decode().casefold()


def test_an_unfiltered_export_includes_its_own_record(client, dana, seeded):
    signed_in(client, dana)
    _response, body = download(client, format="jsonl")
    last = json.loads(body.splitlines()[-1])
    assert last["action"] == AuditAction.AUDIT_EXPORT
    assert last["actor"] == "dana"


@pytest.mark.parametrize(
    "params", [{"format": "csv", "ip": "not-an-address"}, {"format": "xlsx"}, {"person": "alice"}], ids=str
)
def test_an_export_with_a_filter_it_cannot_use_is_not_made(client, dana, seeded, params):
    signed_in(client, dana)
    response = client.get(EXPORT_URL, params)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("audit:events"))
    assert not AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORT).exists()
    page = client.get(response["Location"]).content.decode()
    assert "Nothing was exported" in page


def test_an_export_stops_at_its_limit_oldest_first(client, dana, alice, matter, monkeypatch):
    made = [record_event(AuditAction.MATTER_VIEW, actor=alice, target=matter).pk for _ in range(5)]
    monkeypatch.setattr(exports, "EXPORT_LIMIT", 3)
    signed_in(client, dana)
    only_these = {"person": "alice", "action": AuditAction.MATTER_VIEW}
    assert [int(row["id"]) for row in csv_rows(download(client, format="csv", **only_these)[1])] == made[:3]
    assert len(download(client, format="jsonl", **only_these)[1].splitlines()) == 3


def test_exports_carry_the_matter_number_but_never_its_contents(client, dana, seeded, bluefin):
    signed_in(client, dana)
    for kind in ("csv", "jsonl"):
        body = download(client, format=kind)[1].decode()
        assert bluefin.number in body
        for secret in SECRETS:
            assert secret not in body, (kind, secret)


def test_a_timeline_export_keeps_the_timeline(client, dana, alice, seeded):
    signed_in(client, dana)
    page = client.get(reverse("audit:person_timeline", args=[alice.pk])).content.decode()
    assert f"{EXPORT_URL}?person_id={alice.pk}&amp;format=csv" in page
    rows = csv_rows(download(client, format="csv", person_id=alice.pk, **SEEDED_WEEK)[1])
    assert {row["actor"] for row in rows} == {"alice"}
    assert [int(row["id"]) for row in rows] == [
        seeded[name].pk for name in ("alice_view", "alice_other", "alice_search")
    ]
