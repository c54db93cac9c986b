"""The document's page: its facts for the team, a download button only at download level, recorded as a view."""

from __future__ import annotations

from django.urls import reverse

from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from tests.factories import make_document


def test_a_view_only_member_sees_the_document_page_without_a_download_button(matter, bob, login):
    document = make_document(matter, title="Board minutes, 3 March", name="minutes.pdf")
    page = login(bob).get(reverse("matters:document_detail", args=[document.pk]))

    assert page.status_code == 200
    text = page.content.decode()
    assert "Board minutes, 3 March" in text
    assert "minutes.pdf" in text
    assert document.sha256 in text
    assert reverse("matters:document_download", args=[document.pk]) not in text
    assert "does not allow this" in text  # the reason, not a silent absence


def test_the_partner_gets_the_download_button_and_the_page_view_is_recorded(matter, alice, login):
    document = make_document(matter)
    page = login(alice).get(reverse("matters:document_detail", args=[document.pk]))

    assert reverse("matters:document_download", args=[document.pk]) in page.content.decode()
    event = AuditEvent.objects.filter(action=AuditAction.DOCUMENT_VIEW).latest("id")
    assert (event.actor_id, event.outcome, event.document_id, event.matter_id) == (
        alice.pk, Outcome.SUCCESS, document.pk, matter.pk,
    )  # fmt: skip
    assert event.record["matter_number"] == matter.number
    assert document.title not in bytes(event.payload).decode()


def test_an_outsider_is_refused_and_the_refusal_is_recorded(matter, charlie, login):
    document = make_document(matter)
    assert login(charlie).get(reverse("matters:document_detail", args=[document.pk])).status_code == 404

    event = AuditEvent.objects.filter(action=AuditAction.DOCUMENT_VIEW, actor=charlie).get()
    assert event.outcome == Outcome.DENIED
    assert event.document_id == document.pk


def test_the_matter_page_links_each_document_to_its_page(matter, alice, login):
    document = make_document(matter)
    page = login(alice).get(matter.get_absolute_url())
    assert reverse("matters:document_detail", args=[document.pk]) in page.content.decode()
