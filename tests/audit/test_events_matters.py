"""Matter list, search, matter page, download and upload are recorded — and so is every refusal.

A refusal (the policy's 404 or 403) is recorded although the request fails and
its transaction rolls back, naming the matter when there is one, so the matter's
own timeline shows who was turned away.
"""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import GrantLevel
from audit.actions import AuditAction, Outcome
from audit.events import fingerprint
from audit.models import AuditEvent
from matters.models import Document, MatterStatus
from tests.audit.test_events_auth import MATTERS, assert_by, assert_from_browser, browser, events, only_event
from tests.conftest import signed_in
from tests.factories import MatterFactory, grant, make_document

NO_ACCESS = "You have no access to this matter."
NOT_ALLOWED = "Your access to this matter does not allow this."
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DOCUMENT_CONTENT = b"%PDF-1.4 settlement draft\n"


def download_url(document) -> str:
    return reverse("matters:document_download", args=[document.pk])


def upload_url(matter) -> str:
    return reverse("matters:document_upload", args=[matter.pk])


def assert_names_matter(event: AuditEvent, matter) -> None:
    """Identifiers and non-sensitive labels only: number and client code, never title or name."""
    assert event.matter_id == matter.pk
    assert event.client_id == matter.client_id
    record = event.record
    assert record["matter_id"] == str(matter.pk)
    assert record["matter_number"] == matter.number
    assert record["client_code"] == matter.client.code
    assert record["classification"] == matter.classification
    payload = bytes(event.payload).decode()
    assert matter.title not in payload
    assert matter.client.name not in payload


@pytest.fixture
def document(matter, alice):
    return make_document(
        matter, title="Settlement draft", name="Settlement draft v2.pdf", content=DOCUMENT_CONTENT, uploader=alice
    )


# --- list and search ----------------------------------------------------------------------------


def test_each_list_page_is_recorded_with_its_page_count_and_filters(alice, matter, settings):
    for other in MatterFactory.create_batch(2):
        grant(alice, other)
    settings.MATTERS_PAGE_SIZE = 2
    client = signed_in(browser(), alice)

    client.get(MATTERS, {"status": MatterStatus.OPEN, "page": 2})

    event = only_event(AuditAction.MATTER_LIST)
    assert event.outcome == Outcome.SUCCESS
    assert_by(event, alice)
    assert_from_browser(event)
    assert event.session_ref
    assert event.record["detail"] == {"page": 2, "results": 3, "filters": {"status": "open"}}
    assert event.matter_id is None


def test_a_filter_value_that_is_not_a_choice_is_not_recorded(alice, matter):
    signed_in(browser(), alice).get(MATTERS, {"status": "Acme merger secrets"})

    assert only_event(AuditAction.MATTER_LIST).record["detail"]["filters"] == {}
    assert b"Acme" not in bytes(only_event(AuditAction.MATTER_LIST).payload)


def test_two_pages_of_one_session_carry_the_same_session_reference(alice, matter):
    client = signed_in(browser(), alice)
    client.get(MATTERS)
    client.get(MATTERS, {"page": 1})
    other = signed_in(browser(), alice)  # another sign-in: another session
    other.get(MATTERS)

    first, second, elsewhere = (event.session_ref for event in events(AuditAction.MATTER_LIST))
    assert first == second != ""
    assert elsewhere not in ("", first)


def test_a_search_is_recorded_by_the_fingerprint_of_its_term_never_the_term(alice, matter):
    term = "Zhongshan Harbour"
    client = signed_in(browser(), alice)

    client.get(MATTERS, {"q": f"  {term} ", "classification": matter.classification})

    assert events(AuditAction.MATTER_LIST) == []
    event = only_event(AuditAction.MATTER_SEARCH)
    assert_by(event, alice)
    assert_from_browser(event)
    assert event.record["detail"] == {
        "term": fingerprint(term),
        "term_length": len(term),
        "results": 0,
        "page": 1,
        "filters": {"classification": matter.classification},
    }
    # Equal terms give equal fingerprints: the security officer can ask "who searched for X?".
    assert fingerprint(term.upper()) == event.record["detail"]["term"]
    assert fingerprint("Zhongshan") != event.record["detail"]["term"]


def test_a_search_term_appears_nowhere_in_the_audit_table(alice, matter):
    term = "Zhongshan Harbour Holdings"
    signed_in(browser(), alice).get(MATTERS, {"q": term})
    assert only_event(AuditAction.MATTER_SEARCH).record["detail"]["term"] == fingerprint(term)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(AuditEvent._meta.db_table)}")  # noqa: S608
        rows = cursor.fetchall()
    assert rows
    for row in rows:
        for value in row:
            text = bytes(value).decode(errors="replace") if isinstance(value, bytes | memoryview) else str(value)
            for needle in (term, term.casefold(), "Zhongshan"):
                assert needle not in text


def test_a_search_costs_one_insert_for_its_event(alice, matter):
    client = signed_in(browser(), alice)
    client.get(MATTERS)  # first request: session bookkeeping

    with CaptureQueriesContext(connection) as captured:
        client.get(MATTERS, {"q": "T-0"})

    inserts = [query["sql"] for query in captured if query["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert AuditEvent._meta.db_table in inserts[0]


# --- matter page, download, upload --------------------------------------------------------------


def test_opening_a_matter_is_recorded_with_its_number_and_client_code(alice, matter):
    client = signed_in(browser(), alice)
    assert client.get(matter.get_absolute_url()).status_code == 200

    event = only_event(AuditAction.MATTER_VIEW)
    assert event.outcome == Outcome.SUCCESS
    assert_by(event, alice)
    assert_from_browser(event)
    assert event.session_ref
    assert_names_matter(event, matter)
    assert event.document_id is None


def test_a_download_is_recorded_with_the_document(alice, matter, document):
    client = signed_in(browser(), alice)
    response = client.get(download_url(document))
    # What is served is the decrypted upload, not the ciphertext kept in storage.
    assert b"".join(response.streaming_content) == DOCUMENT_CONTENT
    with document.file.open("rb") as stored:
        assert DOCUMENT_CONTENT not in stored.read()

    event = only_event(AuditAction.DOCUMENT_DOWNLOAD)
    assert event.outcome == Outcome.SUCCESS
    assert_by(event, alice)
    assert_from_browser(event)
    assert event.document_id == document.pk
    assert event.record["document_id"] == str(document.pk)
    assert_names_matter(event, matter)
    payload = bytes(event.payload).decode()
    assert "Settlement draft" not in payload


def test_an_upload_is_recorded_with_the_new_document(alice, matter):
    client = signed_in(browser(), alice)
    upload = SimpleUploadedFile("Confidential brief.pdf", PDF)
    data = {"title": "Statement of claim", "classification": matter.classification, "file": upload}

    assert client.post(upload_url(matter), data).status_code == 302

    document = Document.objects.get(matter=matter)
    event = only_event(AuditAction.DOCUMENT_UPLOAD)
    assert event.outcome == Outcome.SUCCESS
    assert_by(event, alice)
    assert_from_browser(event)
    assert event.session_ref
    assert event.document_id == document.pk
    assert_names_matter(event, matter)
    assert event.record["detail"] == {"size": len(PDF), "content_type": "application/pdf"}
    payload = bytes(event.payload).decode()
    assert "Statement of claim" not in payload
    assert "Confidential brief" not in payload


def test_a_refused_file_records_no_upload(alice, matter):
    client = signed_in(browser(), alice)
    data = {"title": "x", "classification": matter.classification, "file": SimpleUploadedFile("a.exe", b"MZ\x90\x00")}

    assert client.post(upload_url(matter), data).status_code == 200

    assert events(AuditAction.DOCUMENT_UPLOAD) == []


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["charlie", "dana", "adam", "root"])
def test_everyone_without_a_grant_is_refused_alices_matter_and_the_refusal_is_recorded(persona, matter, request):
    """The outsider, the security officer, the administrator and the superuser alike."""
    person = request.getfixturevalue(persona)
    client = signed_in(browser(), person)

    assert client.get(matter.get_absolute_url()).status_code == 404

    event = only_event(AuditAction.MATTER_VIEW)
    assert event.outcome == Outcome.DENIED
    assert_by(event, person)
    assert_from_browser(event)
    assert event.session_ref
    assert event.record["reason"] == NO_ACCESS
    assert_names_matter(event, matter)
    # The matter's own timeline shows who was turned away.
    assert list(AuditEvent.objects.filter(matter_id=matter.pk, outcome=Outcome.DENIED)) == [event]


def test_a_matter_that_does_not_exist_is_refused_and_recorded_with_the_id_asked_for(charlie, db):
    missing = uuid.uuid4()
    client = signed_in(browser(), charlie)

    assert client.get(reverse("matters:detail", args=[missing])).status_code == 404

    event = only_event(AuditAction.MATTER_VIEW)
    assert event.outcome == Outcome.DENIED
    assert_by(event, charlie)
    assert event.matter_id is None
    assert event.record["detail"] == {"requested_id": str(missing)}
    assert event.record["reason"] == "Nothing exists with this id."


def test_a_refused_download_is_recorded_with_the_document(charlie, matter, document):
    client = signed_in(browser(), charlie)

    assert client.get(download_url(document)).status_code == 404

    event = only_event(AuditAction.DOCUMENT_DOWNLOAD)
    assert event.outcome == Outcome.DENIED
    assert_by(event, charlie)
    assert event.document_id == document.pk
    assert event.record["reason"] == NO_ACCESS
    assert_names_matter(event, matter)


def test_a_download_beyond_a_view_grant_is_refused_with_its_reason(bob, matter, document):
    client = signed_in(browser(), bob)

    assert client.get(download_url(document)).status_code == 403

    event = only_event(AuditAction.DOCUMENT_DOWNLOAD)
    assert event.outcome == Outcome.DENIED
    assert_by(event, bob)
    assert event.record["reason"] == NOT_ALLOWED
    assert event.document_id == document.pk


def test_an_upload_beyond_a_view_grant_is_refused_and_recorded(bob, matter):
    client = signed_in(browser(), bob)
    data = {"title": "x", "classification": matter.classification, "file": SimpleUploadedFile("a.pdf", PDF)}

    assert client.get(upload_url(matter)).status_code == 403
    assert client.post(upload_url(matter), data).status_code == 403

    refusals = events(AuditAction.DOCUMENT_UPLOAD)
    assert [event.outcome for event in refusals] == [Outcome.DENIED, Outcome.DENIED]
    assert {event.record["reason"] for event in refusals} == {NOT_ALLOWED}
    assert_by(refusals[0], bob)
    assert_names_matter(refusals[0], matter)
    assert not Document.objects.filter(matter=matter).exists()


def test_a_grant_lost_while_the_upload_form_was_open_is_recorded_as_refused(alice, charlie, matter, monkeypatch):
    """The service re-checks inside its transaction; that refusal is evidence too."""
    grant(charlie, matter, GrantLevel.EDIT)
    client = signed_in(browser(), charlie)
    from access import policy

    original = policy.level_on
    calls = []

    def level_lost_on_second_look(user, obj):
        calls.append(obj)
        return original(user, obj) if len(calls) == 1 else None

    monkeypatch.setattr(policy, "level_on", level_lost_on_second_look)
    data = {"title": "x", "classification": matter.classification, "file": SimpleUploadedFile("a.pdf", PDF)}

    response = client.post(upload_url(matter), data)

    assert response.status_code == 200  # the form again, with the reason
    refusal = only_event(AuditAction.DOCUMENT_UPLOAD)
    assert refusal.outcome == Outcome.DENIED
    assert_by(refusal, charlie)
    assert refusal.record["reason"] == NO_ACCESS
    assert not Document.objects.filter(matter=matter).exists()
