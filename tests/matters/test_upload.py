"""Adding a document: who may, what is accepted, and that a refusal writes nothing."""

from __future__ import annotations

import hashlib
import html
import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from access.models import GrantLevel
from matters.models import Classification, Document
from tests.factories import UserFactory, enroll, grant

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TXT = "Notes from the client meeting — 会议记录\n".encode()
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 64
    + b"This program cannot be run in DOS mode."
)
MiB = 1024 * 1024


def office_zip(*members: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in members:
            archive.writestr(member, "<xml/>")
    return buffer.getvalue()


DOCX = office_zip("[Content_Types].xml", "_rels/.rels", "word/document.xml")


def upload_url(matter) -> str:
    return reverse("matters:document_upload", args=[matter.pk])


def stored_files(tmp_path) -> list:
    """Files in document storage (the suite points it at this test's tmp_path)."""
    root = tmp_path / "documents"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def visible_text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(without_tags))


def post(client, matter, *, content=PDF, name="brief.pdf", title="Statement of claim", classification=None, **extra):
    data = {"title": title, "classification": classification or matter.classification}
    if content is not None:
        data["file"] = SimpleUploadedFile(name, content)
    return client.post(upload_url(matter), data, **extra)


def assert_nothing_written(matter, tmp_path) -> None:
    assert not Document.objects.filter(matter=matter).exists()
    assert stored_files(tmp_path) == []


# --- accepted -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("Statement of claim.pdf", PDF, "application/pdf"),
        ("Draft SPA v3.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("meeting-notes.TXT", TXT, "text/plain"),
    ],
)
def test_alice_adds_a_document_and_it_appears_with_its_size_fingerprint_and_uploader(
    matter, alice, login, tmp_path, name, content, content_type
):
    client = login(alice)

    response = post(client, matter, content=content, name=name, title="Filed copy")

    assert response.status_code == 302
    assert response["Location"] == matter.get_absolute_url()
    document = Document.objects.get(matter=matter)
    assert document.title == "Filed copy"
    assert document.original_name == name
    assert document.size == len(content)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.content_type == content_type
    assert document.uploaded_by == alice
    assert document.classification == matter.classification
    assert len(stored_files(tmp_path)) == 1
    # The stored name carries nothing of the client's file name.
    assert name not in str(stored_files(tmp_path)[0])

    page = client.get(response["Location"])
    text = visible_text(page)
    assert "The document was added." in text
    assert "Filed copy" in text
    assert name in text
    assert f"{len(content)} bytes" in text
    assert "Alice Test" in text


def test_the_matter_page_shows_the_documents_sha256(matter, alice, login):
    """The fingerprint is what lets a lawyer prove a copy is the filed one, so the page shows it."""
    client = login(alice)
    post(client, matter, content=PDF)

    page = client.get(matter.get_absolute_url()).content.decode()

    assert hashlib.sha256(PDF).hexdigest() in page


def test_a_lawyer_with_edit_rights_may_upload_and_choose_a_higher_classification(matter, login, tmp_path):
    editor = UserFactory(username="edith", first_name="Edith", last_name="Test")
    enroll(editor)
    grant(editor, matter, GrantLevel.EDIT)

    response = post(login(editor), matter, classification=Classification.HIGHLY_CONFIDENTIAL)

    assert response.status_code == 302
    document = Document.objects.get(matter=matter)
    assert document.uploaded_by == editor
    assert document.classification == Classification.HIGHLY_CONFIDENTIAL


def test_the_form_offers_only_classifications_at_or_above_the_matters(matter, alice, login):
    response = login(alice).get(upload_url(matter))

    assert response.status_code == 200
    select = re.search(r'<select name="classification".*?</select>', response.content.decode(), re.S)
    assert select, "the form has no classification choice"
    offered = {int(value) for value in re.findall(r'<option value="(\d+)"', select.group(0))}
    assert offered == {Classification.CONFIDENTIAL, Classification.HIGHLY_CONFIDENTIAL}
    assert 'value="30" selected' in select.group(0)  # the matter's own level by default
    assert "This matter is classified Confidential" in visible_text(response)


def test_the_form_names_the_limit_and_accepted_types(matter, alice, login, settings):
    settings.DOCUMENT_MAX_UPLOAD_BYTES = 3 * MiB

    text = visible_text(login(alice).get(upload_url(matter)))

    assert "Up to 3 MB." in text
    assert ".docx" in text
    assert ".pdf" in text


# --- refused: the form comes back with the fault named and nothing is written -------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param("empty.pdf", b"", "empty", id="empty-file"),
        pytest.param("setup.exe", EXE, ".exe files cannot be uploaded.", id="wrong-extension"),
        pytest.param("no-extension", PDF, "Files without an extension cannot be uploaded.", id="no-extension"),
        pytest.param("invoice.pdf", EXE, "The file's content does not match its .pdf extension.", id="exe-as-pdf"),
        pytest.param("contract.docx", PDF, "The file's content does not match its .docx extension.",
                     id="docx-not-a-zip"),
        pytest.param("contract.docx", office_zip("[Content_Types].xml", "xl/workbook.xml"),
                     "The file's content does not match its .docx extension.", id="docx-without-word-folder"),
        pytest.param("contract.docx", office_zip("word/document.xml"),
                     "The file's content does not match its .docx extension.", id="docx-without-content-types"),
        pytest.param("notes.txt", EXE, "The file's content does not match its .txt extension.", id="exe-as-txt"),
    ],
)  # fmt: skip
def test_a_refused_file_is_named_and_nothing_is_written(matter, alice, login, tmp_path, name, content, message):
    response = post(login(alice), matter, content=content, name=name)

    assert response.status_code == 200
    assert response.templates[0].name == "matters/upload.html"
    assert message in visible_text(response)
    assert response.context["form"].has_error("file")
    assert_nothing_written(matter, tmp_path)


def test_a_file_over_the_size_limit_is_refused(matter, alice, login, tmp_path, settings):
    settings.DOCUMENT_MAX_UPLOAD_BYTES = 1 * MiB

    response = post(login(alice), matter, content=PDF + b"0" * MiB, name="big.pdf")

    assert response.status_code == 200
    assert "the limit is 1 MB" in visible_text(response)
    assert response.context["form"].has_error("file")
    assert_nothing_written(matter, tmp_path)


def test_a_file_exactly_at_the_limit_is_accepted(matter, alice, login, tmp_path, settings):
    settings.DOCUMENT_MAX_UPLOAD_BYTES = 1 * MiB
    content = PDF + b"0" * (MiB - len(PDF))

    response = post(login(alice), matter, content=content, name="limit.pdf")

    assert response.status_code == 302
    assert Document.objects.get(matter=matter).size == MiB


def test_a_request_declaring_more_than_the_limit_is_refused_before_reading_it(matter, alice, login, tmp_path, settings):
    settings.DOCUMENT_MAX_UPLOAD_BYTES = 1 * MiB

    response = post(login(alice), matter, content=PDF + b"0" * (2 * MiB), name="huge.pdf")

    assert response.status_code == 413
    assert "The file is larger than the 1 MB limit." in visible_text(response)
    assert_nothing_written(matter, tmp_path)


def test_a_declared_length_over_the_limit_is_refused_whatever_the_body(matter, alice, login, tmp_path, settings):
    settings.DOCUMENT_MAX_UPLOAD_BYTES = 1 * MiB

    response = post(login(alice), matter, content=PDF, CONTENT_LENGTH=str(5 * MiB))

    assert response.status_code == 413
    assert "The file is larger than the 1 MB limit." in visible_text(response)
    assert_nothing_written(matter, tmp_path)


@pytest.mark.parametrize("lower", [Classification.PUBLIC, Classification.INTERNAL])
def test_a_classification_below_the_matters_is_refused(matter, alice, login, tmp_path, lower):
    response = post(login(alice), matter, classification=lower)

    assert response.status_code == 200
    assert response.context["form"].has_error("classification")
    assert "Select a valid choice." in visible_text(response)
    assert_nothing_written(matter, tmp_path)


@pytest.mark.parametrize("title", ["", "   "])
def test_a_missing_title_is_refused(matter, alice, login, tmp_path, title):
    response = post(login(alice), matter, title=title)

    assert response.status_code == 200
    assert response.context["form"].has_error("title", code="required")
    assert "This field is required." in visible_text(response)
    assert_nothing_written(matter, tmp_path)


def test_a_missing_file_is_refused(matter, alice, login, tmp_path):
    response = post(login(alice), matter, content=None)

    assert response.status_code == 200
    assert response.context["form"].has_error("file", code="required")
    assert_nothing_written(matter, tmp_path)


# --- who may upload ------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [GrantLevel.VIEW, GrantLevel.DOWNLOAD])
def test_someone_who_can_see_but_not_edit_gets_403_with_the_reason(matter, login, tmp_path, level):
    reader = UserFactory(username="reader", first_name="Reader", last_name="Test")
    enroll(reader)
    grant(reader, matter, level)
    client = login(reader)

    shown = client.get(upload_url(matter))
    posted = post(client, matter)

    for response in (shown, posted):
        assert response.status_code == 403
        assert "Your access to this matter does not allow this." in visible_text(response)
    assert_nothing_written(matter, tmp_path)


def test_bob_with_view_only_gets_403(matter, bob, login, tmp_path):
    response = post(login(bob), matter)

    assert response.status_code == 403
    assert_nothing_written(matter, tmp_path)


@pytest.mark.parametrize("persona", ["charlie", "dana", "adam", "root"])
def test_anyone_without_a_grant_gets_404_and_nothing_is_written(request, matter, login, tmp_path, persona):
    client = login(request.getfixturevalue(persona))

    shown = client.get(upload_url(matter))
    posted = post(client, matter)

    assert shown.status_code == posted.status_code == 404
    assert matter.title not in visible_text(posted)
    assert_nothing_written(matter, tmp_path)


def test_an_outsider_posting_an_oversized_body_still_gets_404(matter, charlie, login, tmp_path, settings):
    """The size refusal must not reveal that the matter exists."""
    settings.DOCUMENT_MAX_UPLOAD_BYTES = 1 * MiB

    response = post(login(charlie), matter, content=PDF, CONTENT_LENGTH=str(5 * MiB))

    assert response.status_code == 404
    assert_nothing_written(matter, tmp_path)
