"""Break-glass through the browser: the emergency form, the matter it opens (for four hours
exactly), the refusals that all read alike, and the security officer's review pages.

Charlie, a lawyer, holds no grant on Alice's CONFIDENTIAL matter; Dana is the security officer.
Time stands still at T0 (Monday 2 March 2026, 09:00 in the firm's time zone).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from access.break_glass import open_in_emergency
from access.models import (
    BreakGlassAccess,
    BreakGlassStatus,
    EthicalWall,
    MatterUserGrant,
    Notification,
    NotificationKind,
    Role,
    WallKind,
    WallMember,
)
from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from matters.models import Classification
from tests.conftest import signed_in
from tests.factories import MatterFactory

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
NEW = reverse("access:break_glass_new")
REVIEWS = reverse("access:break_glass_reviews")
REASON = "Client Acme Holdings called at 8am: court hearing moved to 10am, partner unreachable"
NOTE = "Acme hearing was confirmed with the court registry"
NO_SUCH_NUMBER = "2026-X-99999"
NO_SUCH_UUID = "00000000-0000-4000-8000-000000000000"
REFUSED = "No matter you may open in an emergency has this number."


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def form(number, reason=REASON, confirmed=True) -> dict:
    data = {"number": number, "reason": reason}
    if confirmed:
        data["confirmed"] = "on"
    return data


def review_url(access) -> str:
    return reverse("access:break_glass_review", args=[access.pk])


@pytest.fixture
def used(matter, charlie):
    return open_in_emergency(user=charlie, number=matter.number, reason=REASON)


# --- the form ---------------------------------------------------------------------------------------------


def test_the_form_asks_for_the_number_the_reason_and_the_confirmation(client, charlie):
    response = signed_in(client, charlie).get(NEW)
    assertContains(response, 'name="number"')
    assertContains(response, 'name="reason"')
    assertContains(response, "I understand this is recorded and the security officer is alerted.")
    assertContains(response, "csrfmiddlewaretoken")
    assertContains(response, "4 hours")


@pytest.mark.parametrize("persona", ["dana", "adam", "harriet", "root"])
def test_the_form_is_not_found_for_anyone_but_lawyers_and_partners(request, client, matter, persona):
    signed_in(client, request.getfixturevalue(persona))
    assert client.get(NEW).status_code == 404
    assert client.post(NEW, form(matter.number)).status_code == 404
    assert not BreakGlassAccess.objects.exists()


def test_a_lawyer_opens_a_confidential_matter_for_four_hours(client, matter, charlie, dana, clock):
    signed_in(client, charlie)
    assert client.get(matter.get_absolute_url()).status_code == 404
    response = client.post(NEW, form(matter.number))
    assertRedirects(response, matter.get_absolute_url())
    assertContains(client.get(matter.get_absolute_url()), matter.title)
    assert Notification.objects.filter(recipient=dana, kind=NotificationKind.BREAK_GLASS).exists()
    clock.move_to(T0 + timedelta(hours=3, minutes=59))
    signed_in(client, charlie)
    assert client.get(matter.get_absolute_url()).status_code == 200
    clock.move_to(T0 + timedelta(hours=4))
    signed_in(client, charlie)
    assert client.get(matter.get_absolute_url()).status_code == 404


def test_the_person_is_told_until_when_and_that_the_security_officer_knows(client, matter, charlie):
    response = signed_in(client, charlie).post(NEW, form(matter.number), follow=True)
    assertContains(response, f"Emergency access to matter {matter.number} until")
    assertContains(response, "The security officer has been alerted")


def test_a_reason_too_short_is_a_form_error(client, matter, charlie):
    response = signed_in(client, charlie).post(NEW, form(matter.number, reason="urgent"))
    assert response.status_code == 200
    assertContains(response, "Explain the emergency in at least 20 characters")
    assert not BreakGlassAccess.objects.exists()


def test_the_confirmation_is_required(client, matter, charlie):
    response = signed_in(client, charlie).post(NEW, form(matter.number, confirmed=False))
    assertContains(response, "Confirm that you understand this is recorded")
    assert not BreakGlassAccess.objects.exists()


def test_bad_input_is_a_form_error_never_a_server_error(client, charlie):
    signed_in(client, charlie)
    for data in ({}, {"number": "x" * 500, "reason": REASON, "confirmed": "on"}, {"number": "\x00", "reason": "\x00"}):
        assert client.post(NEW, data).status_code == 200


@pytest.fixture
def walled(alice, charlie):
    matter = MatterFactory(responsible_partner=alice)
    wall = EthicalWall.objects.create(
        kind=WallKind.EXCLUSIONARY, client=matter.client, matter=matter, reason="x", memo="y"
    )
    WallMember.objects.create(wall=wall, user=charlie)
    return matter


@pytest.fixture
def highly_confidential(alice):
    return MatterFactory(responsible_partner=alice, classification=Classification.HIGHLY_CONFIDENTIAL)


@pytest.mark.parametrize("which", ["walled", "highly_confidential", "missing"])
def test_refusals_read_exactly_like_a_number_nobody_has(request, client, charlie, which):
    number = NO_SUCH_NUMBER if which == "missing" else request.getfixturevalue(which).number
    signed_in(client, charlie)
    refused = client.post(NEW, form(number))
    missing = client.post(NEW, form(NO_SUCH_NUMBER))
    assertContains(refused, REFUSED)
    assert refused.context["form"].errors == missing.context["form"].errors
    assert not MatterUserGrant.objects.filter(user=charlie).exists()
    assert AuditEvent.objects.filter(action=AuditAction.BREAK_GLASS, outcome=Outcome.DENIED).count() == 2


def test_break_glass_through_an_exclusionary_wall_leaves_the_matter_closed(client, walled, charlie):
    signed_in(client, charlie)
    client.post(NEW, form(walled.number))
    assert client.get(walled.get_absolute_url()).status_code == 404


def test_a_highly_confidential_matter_opens_when_the_firm_allows_it(client, highly_confidential, charlie, settings):
    settings.BREAK_GLASS_ALLOW_HIGHLY_CONFIDENTIAL = True
    response = signed_in(client, charlie).post(NEW, form(highly_confidential.number))
    assertRedirects(response, highly_confidential.get_absolute_url())


def test_someone_who_already_has_access_is_told_so(client, matter, bob):
    response = signed_in(client, bob).post(NEW, form(matter.number))
    assertContains(response, "You already have access to this matter")


# --- the review pages ---------------------------------------------------------------------------------------


def test_the_security_officer_sees_who_opened_which_number_when_and_why(client, used, matter, dana):
    response = signed_in(client, dana).get(REVIEWS)
    assertContains(response, matter.number)
    assertContains(response, "Charlie Test")
    assertContains(response, "Acme Holdings called at 8am")
    assertContains(response, "2026-03-02 09:00")
    assertContains(response, "until 2026-03-02 13:00")
    assertContains(response, "To review")
    assertNotContains(response, matter.title)
    assertContains(response, review_url(used))


def test_the_review_page_shows_the_reason_and_a_form(client, used, matter, dana):
    response = signed_in(client, dana).get(review_url(used))
    assertContains(response, "Acme Holdings called at 8am")
    assertContains(response, 'name="outcome"')
    assertContains(response, 'name="revoke"')  # still in force
    assertContains(response, "csrfmiddlewaretoken")
    assertNotContains(response, matter.title)


@pytest.mark.parametrize("persona", ["alice", "bob", "charlie", "adam", "harriet", "root"])
def test_the_review_pages_are_not_found_for_anyone_but_the_security_officer(request, client, used, persona):
    signed_in(client, request.getfixturevalue(persona))
    assert client.get(REVIEWS).status_code == 404
    assert client.get(review_url(used)).status_code == 404
    post = client.post(review_url(used), {"outcome": "justified"})
    assert post.status_code == 404
    assert BreakGlassAccess.objects.get(pk=used.pk).status == BreakGlassStatus.PENDING_REVIEW


def test_an_unknown_emergency_is_not_found(client, dana):
    response = signed_in(client, dana).get(reverse("access:break_glass_review", args=[NO_SUCH_UUID]))
    assert response.status_code == 404


def test_justified(client, used, dana):
    response = signed_in(client, dana).post(review_url(used), {"outcome": "justified"})
    assertRedirects(response, REVIEWS)
    assert BreakGlassAccess.objects.get(pk=used.pk).status == BreakGlassStatus.JUSTIFIED
    listing = client.get(REVIEWS)
    assertContains(listing, "No emergency access is waiting for review.")
    assertContains(listing, "Justified")


def test_not_justified_without_a_note_is_a_form_error(client, used, dana):
    response = signed_in(client, dana).post(review_url(used), {"outcome": "unjustified", "note": ""})
    assert response.status_code == 200
    assertContains(response, "Say why the emergency access was not justified.")
    assert BreakGlassAccess.objects.get(pk=used.pk).status == BreakGlassStatus.PENDING_REVIEW


def test_an_outcome_that_is_not_offered_is_a_form_error(client, used, dana):
    response = signed_in(client, dana).post(review_url(used), {"outcome": "pending"})
    assertContains(response, "Choose justified or not justified.")


def test_not_justified_and_revoked_now_closes_the_matter_at_once(client, used, matter, charlie, dana, clock):
    clock.move_to(T0 + timedelta(hours=1))
    signed_in(client, dana).post(review_url(used), {"outcome": "unjustified", "note": NOTE, "revoke": "on"})
    reviewed = BreakGlassAccess.objects.get(pk=used.pk)
    assert reviewed.status == BreakGlassStatus.UNJUSTIFIED
    assert reviewed.review_note == NOTE
    page = client.get(review_url(used))
    assertContains(page, NOTE)
    assertNotContains(page, 'name="outcome"')  # reviewed: no form
    assertContains(client.get(REVIEWS), "ended 2026-03-02 10:00")
    signed_in(client, charlie)
    assert client.get(matter.get_absolute_url()).status_code == 404


def test_a_review_after_the_access_ended_offers_no_revocation(client, used, dana, clock):
    clock.move_to(T0 + timedelta(hours=5))
    response = signed_in(client, dana).get(review_url(used))
    assertNotContains(response, 'name="revoke"')
    assertContains(response, "Ended")


def test_the_notification_links_to_the_review(client, dana, used):
    note = Notification.objects.get(recipient=dana, kind=NotificationKind.BREAK_GLASS)
    assert note.url == review_url(used)
    assert signed_in(client, dana).get(note.url).status_code == 200


def test_no_reason_or_note_text_enters_the_audit_trail(client, matter, charlie, dana, walled):
    signed_in(client, charlie)
    client.post(NEW, form(walled.number))
    client.post(NEW, form(matter.number))
    client.get(matter.get_absolute_url())
    access = BreakGlassAccess.objects.get()
    signed_in(client, dana)
    client.get(REVIEWS)
    client.post(review_url(access), {"outcome": "unjustified", "note": NOTE, "revoke": "on"})
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {AuditAction.BREAK_GLASS, AuditAction.BREAK_GLASS_REVIEW, AuditAction.GRANT_REVOKE} <= actions
    for event in AuditEvent.objects.all():
        assert b"Acme" not in bytes(event.payload), event.action


def test_the_matter_list_links_to_the_form(client, charlie):
    assertContains(signed_in(client, charlie).get(reverse("matters:list")), NEW)


def test_a_security_officer_who_is_also_a_lawyer_cannot_review_their_own(client, matter, dana):
    dana.groups.add(Group.objects.get_or_create(name=Role.LAWYER.value)[0])
    own = open_in_emergency(user=dana, number=matter.number, reason=REASON)
    signed_in(client, dana)
    page = client.get(review_url(own))
    assertContains(page, "another security officer must review it")
    assertNotContains(page, 'name="outcome"')
    response = client.post(review_url(own), {"outcome": "justified"})
    assertContains(response, "You cannot review your own emergency access.")
    assert BreakGlassAccess.objects.get(pk=own.pk).status == BreakGlassStatus.PENDING_REVIEW
