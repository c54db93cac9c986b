"""What the gate keeps from a lapsed person beyond the matter itself: a document classified above its
matter, the search that would tell whose a locked matter is, and the titles on "your access". In each,
a compliant person sees what the lapsed one does not."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import GrantLevel
from access.policy import Action, can
from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from matters.models import Classification, Document
from matters.services import add_document
from tests.conftest import signed_in
from tests.factories import ClientFactory, MatterFactory, PartyFactory, grant, make_course, make_document
from training import services
from training.models import RuleTarget

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
TODAY = date(2026, 3, 2)
LAPSED_AT = T0 + timedelta(days=2)  # due today: two days later the course is overdue
LOCKED = "Locked until your training is complete"
SECRET_DOCUMENT = "Secret merger memorandum"
SECRET_FILE = "merger-memo-draft.pdf"
SECRET_TITLE = "Project Nightingale acquisition"
SECRET_CLIENT = "Nightingale Holdings Ltd."
SECRET_PARTY = "Larkspur Ventures"
SECRET_ID = "91310000MA1K4LXY7Q"
PDF = b"%PDF-1.4 merger\n"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def course(harriet, bob):
    """Bob owes the confidentiality course today."""
    course = make_course("Confidentiality duties")
    services.assign_course(actor=harriet, course=course, target=RuleTarget.PERSON, person=bob, due_on=TODAY)
    return course


@pytest.fixture
def lapsed(course, clock):
    clock.move_to(LAPSED_AT)
    return course


def text_of(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


# --- 1. a document classified above its matter ---------------------------------------------------------


@pytest.fixture
def internal_matter(alice, bob):
    """An INTERNAL matter Bob may download from and add to, holding a HIGHLY CONFIDENTIAL memo."""
    matter = MatterFactory(classification=Classification.INTERNAL, title="Routine filings")
    grant(alice, matter, GrantLevel.MANAGE)
    grant(bob, matter, GrantLevel.EDIT)
    return matter


@pytest.fixture
def memo(internal_matter, alice):
    return make_document(
        internal_matter,
        title=SECRET_DOCUMENT,
        name=SECRET_FILE,
        content=PDF,
        classification=Classification.HIGHLY_CONFIDENTIAL,
        uploader=alice,
    )


@pytest.fixture
def minutes(internal_matter, alice):
    return make_document(internal_matter, title="Board minutes", name="minutes.pdf", uploader=alice)


def test_the_gate_judges_a_document_by_its_own_classification_when_above_its_matter(lapsed, bob, memo, minutes):
    matter = memo.matter

    assert can(bob, Action.VIEW, matter)
    assert can(bob, Action.DOWNLOAD, minutes)
    refused = can(bob, Action.VIEW, memo)
    assert not refused
    assert "Confidentiality duties" in str(refused.reason)
    assert refused.remedy_url == lapsed.get_absolute_url()
    assert not can(bob, Action.DOWNLOAD, memo)


def test_a_lapsed_person_sees_the_document_locked_on_the_matter_page(client, lapsed, bob, memo, minutes):
    page = text_of(signed_in(client, bob).get(memo.matter.get_absolute_url()))

    assert SECRET_DOCUMENT not in page
    assert SECRET_FILE not in page
    assert LOCKED in page
    assert reverse("matters:document_download", args=[memo.pk]) not in page
    # The banner says why and links to the course; the rest of the matter stays open.
    assert "Your training “Confidentiality duties” is overdue." in page
    assert f'href="{lapsed.get_absolute_url()}" id="gate-remedy"' in page
    assert "Board minutes" in page
    assert reverse("matters:document_download", args=[minutes.pk]) in page


def test_a_lapsed_person_is_refused_the_document_page_and_its_download(client, lapsed, bob, memo):
    browser = signed_in(client, bob)

    for name in ("matters:document_detail", "matters:document_download"):
        response = browser.get(reverse(name, args=[memo.pk]))
        assert response.status_code == 403
        page = response.content.decode()
        assert SECRET_DOCUMENT not in page
        assert "Confidentiality duties" in html.unescape(page)
    denied = AuditEvent.objects.filter(outcome=Outcome.DENIED, actor=bob).values_list("action", flat=True)
    assert sorted(denied) == sorted([AuditAction.DOCUMENT_VIEW, AuditAction.DOCUMENT_DOWNLOAD])


def test_a_compliant_person_sees_opens_and_downloads_the_document(client, course, bob, memo):
    browser = signed_in(client, bob)

    page = text_of(browser.get(memo.matter.get_absolute_url()))
    assert SECRET_DOCUMENT in page
    assert LOCKED not in page
    assert 'id="gate-banner"' not in page
    assert SECRET_DOCUMENT in text_of(browser.get(reverse("matters:document_detail", args=[memo.pk])))
    download = browser.get(reverse("matters:document_download", args=[memo.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF


def test_the_matter_page_asks_the_gate_once_whatever_the_number_of_confidential_documents(
    client, lapsed, bob, internal_matter, alice
):
    for number in range(3):
        make_document(
            internal_matter,
            title=f"{SECRET_DOCUMENT} {number}",
            classification=Classification.CONFIDENTIAL,
            uploader=alice,
        )
    browser = signed_in(client, bob)

    with CaptureQueriesContext(connection) as captured:
        page = text_of(browser.get(internal_matter.get_absolute_url()))

    assert page.count(LOCKED) == 3
    assert SECRET_DOCUMENT not in page
    assert len([q for q in captured if 'FROM "training_assignment"' in q["sql"]]) == 1


def upload(browser, matter, classification, title=SECRET_DOCUMENT):
    data = {"title": title, "classification": int(classification), "file": SimpleUploadedFile(SECRET_FILE, PDF)}
    return browser.post(reverse("matters:document_upload", args=[matter.pk]), data)


@pytest.mark.parametrize("classification", [Classification.CONFIDENTIAL, Classification.HIGHLY_CONFIDENTIAL])
def test_a_lapsed_person_cannot_file_a_confidential_document_on_an_internal_matter(
    client, lapsed, bob, internal_matter, classification, tmp_path
):
    response = upload(signed_in(client, bob), internal_matter, classification)

    page = text_of(response)
    assert "You cannot file a document of this classification now." in page
    assert "Your training “Confidentiality duties” is overdue." in page
    assert not Document.objects.filter(matter=internal_matter).exists()
    root = tmp_path / "documents"
    assert not root.exists() or not [path for path in root.rglob("*") if path.is_file()]
    refused = AuditEvent.objects.get(outcome=Outcome.DENIED, actor=bob)
    assert refused.action == AuditAction.DOCUMENT_UPLOAD
    assert "Confidentiality duties" in refused.record["reason"]


def test_a_lapsed_person_still_files_an_internal_document(client, lapsed, bob, internal_matter):
    response = upload(signed_in(client, bob), internal_matter, Classification.INTERNAL, title="Cover letter")

    assert response.status_code == 302
    assert Document.objects.get(matter=internal_matter).title == "Cover letter"


def test_a_compliant_person_files_a_confidential_document(client, course, bob, internal_matter):
    response = upload(signed_in(client, bob), internal_matter, Classification.CONFIDENTIAL)

    assert response.status_code == 302
    assert Document.objects.get(matter=internal_matter).classification == Classification.CONFIDENTIAL


def test_the_service_refuses_the_lapsed_person_with_a_classification_error(lapsed, bob, internal_matter):
    with pytest.raises(ValidationError) as refused:
        add_document(
            actor=bob,
            matter=internal_matter,
            title=SECRET_DOCUMENT,
            classification=Classification.CONFIDENTIAL,
            upload=SimpleUploadedFile(SECRET_FILE, PDF),
        )

    assert "classification" in refused.value.message_dict
    assert not Document.objects.exists()


# --- 2. the search names no client or party of a locked matter ------------------------------------------


@pytest.fixture
def locked_matter(bob):
    """Bob's CONFIDENTIAL matter for a client and against a party both searchable by name and ID number."""
    matter = MatterFactory(
        number="2026-NG-001",
        title=SECRET_TITLE,
        client=ClientFactory(name=SECRET_CLIENT, id_number=SECRET_ID),
        classification=Classification.CONFIDENTIAL,
    )
    PartyFactory(matter=matter, name=SECRET_PARTY)
    grant(bob, matter, GrantLevel.VIEW)
    return matter


def search(browser, term: str):
    return browser.get(reverse("matters:list"), {"q": term})


@pytest.mark.parametrize("term", [SECRET_CLIENT, SECRET_PARTY, SECRET_ID])
def test_a_lapsed_lawyer_searching_the_client_or_party_of_his_locked_matter_gets_no_row(
    client, lapsed, bob, locked_matter, term
):
    page = text_of(search(signed_in(client, bob), term))

    assert locked_matter.number not in page
    assert SECRET_TITLE not in page
    assert "No matter you can see matches these filters." in page


def test_a_lapsed_lawyer_still_finds_a_locked_matter_by_its_number_locked(client, lapsed, bob, locked_matter):
    page = text_of(search(signed_in(client, bob), "NG-001"))

    assert locked_matter.number in page
    assert LOCKED in page
    assert SECRET_TITLE not in page
    assert SECRET_CLIENT not in page


def test_a_lapsed_lawyer_still_finds_an_internal_matter_by_its_clients_name(client, lapsed, bob, locked_matter):
    internal = MatterFactory(
        number="2026-IN-001",
        title="Lease renewal",
        client=locked_matter.client,
        classification=Classification.INTERNAL,
    )
    grant(bob, internal, GrantLevel.VIEW)

    page = text_of(search(signed_in(client, bob), SECRET_CLIENT))

    assert internal.number in page
    assert "Lease renewal" in page
    assert locked_matter.number not in page


@pytest.mark.parametrize("term", [SECRET_CLIENT, SECRET_PARTY, SECRET_ID])
def test_a_compliant_lawyer_finds_his_confidential_matter_by_client_or_party(client, course, bob, locked_matter, term):
    page = text_of(search(signed_in(client, bob), term))

    assert locked_matter.number in page
    assert SECRET_TITLE in page


# --- 3. "your access" ----------------------------------------------------------------------------------------

MY_ACCESS = reverse("access:my_access")


@pytest.fixture
def held(bob):
    """Bob's grants: directly on a CONFIDENTIAL and an INTERNAL matter, through his team on a HIGHLY
    CONFIDENTIAL one."""
    direct = MatterFactory(number="2026-NG-001", title=SECRET_TITLE, classification=Classification.CONFIDENTIAL)
    internal = MatterFactory(number="2026-IN-001", title="Lease renewal", classification=Classification.INTERNAL)
    via_team = MatterFactory(
        number="2026-HC-001", title="Secret team matter title", classification=Classification.HIGHLY_CONFIDENTIAL
    )
    team = Group.objects.create(name="Deal team")
    bob.groups.add(team)
    grant(bob, direct, GrantLevel.VIEW)
    grant(bob, internal, GrantLevel.VIEW)
    grant(team, via_team, GrantLevel.VIEW)
    return direct, internal, via_team


def test_a_lapsed_person_sees_confidential_matters_on_their_access_by_number_only(client, lapsed, bob, held):
    direct, internal, via_team = held

    page = text_of(signed_in(client, bob).get(MY_ACCESS))

    assert SECRET_TITLE not in page
    assert "Secret team matter title" not in page
    assert page.count(LOCKED) == 2
    assert direct.number in page
    assert via_team.number in page
    assert internal.number in page
    assert "Lease renewal" in page
    assert f'href="{lapsed.get_absolute_url()}" id="gate-remedy"' in page


def test_a_compliant_person_sees_the_titles_on_their_access(client, course, bob, held):
    page = text_of(signed_in(client, bob).get(MY_ACCESS))

    assert SECRET_TITLE in page
    assert "Secret team matter title" in page
    assert "Lease renewal" in page
    assert LOCKED not in page
    assert 'id="gate-banner"' not in page


def test_their_access_asks_the_gate_once(client, lapsed, bob, held):
    browser = signed_in(client, bob)

    with CaptureQueriesContext(connection) as captured:
        text_of(browser.get(MY_ACCESS))

    assert len([q for q in captured if 'FROM "training_assignment"' in q["sql"]]) == 1
