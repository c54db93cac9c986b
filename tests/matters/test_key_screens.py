"""The client keys screens: codes not names, for the security officer and administrators only, actions by POST."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from jobs.models import JobRun
from matters.keys import request_shredding, set_legal_hold
from matters.models import Client, ClientShredding, ShreddingStatus
from tests.conftest import signed_in
from tests.factories import ClientFactory, PartyFactory, make_document
from tests.matters.test_key_rotation import _fresh_key_caches  # noqa: F401 (an autouse fixture)
from vault.models import DataKey, KeyRotation, KeyState

LIST = reverse("matters:client_keys")
NAME, TITLE = "Marlin Holdings", "Operation Bluefin"
REASON = "Court order in the Marlin Holdings dispute"


@pytest.fixture
def held_client(matter, alice):
    client = matter.client
    client.name = NAME
    client.retention_until = timezone.localdate() - timedelta(days=1)
    client.save()
    matter.title = TITLE
    matter.save()
    PartyFactory(matter=matter, name="Tuna Fisheries Cooperative")
    make_document(matter, title="Valuation model", uploader=alice)
    return client


def detail_url(client) -> str:
    return reverse("matters:client_key_detail", args=[client.pk])


def test_the_security_officer_sees_clients_by_code_never_by_name(held_client, dana, login):
    response = login(dana).get(LIST)

    assertContains(response, held_client.code)
    assertContains(response, f"{DataKey.objects.get(owner=held_client.pk).pk:016x}"[:8])
    for secret in (NAME, TITLE, "Tuna Fisheries", "Valuation model"):
        assertNotContains(response, secret)
    detail = login(dana).get(detail_url(held_client))
    assertContains(detail, held_client.code)
    assertNotContains(detail, NAME)
    assertNotContains(detail, TITLE)


def test_the_kek_box_shows_the_current_version_and_keys_per_version(held_client, dana, login):
    ClientFactory(name="Another client")  # a second key

    response = login(dana).get(LIST)

    assertContains(response, '<dd id="kek-current">1</dd>', html=True)
    assertContains(response, "version 1: 2")
    assertContains(response, '<dd id="kek-remaining">0</dd>', html=True)


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "root"])
def test_anyone_else_gets_404_and_the_attempt_is_recorded(held_client, who, request, login):
    person = request.getfixturevalue(who)
    browser = login(person)

    assert browser.get(LIST).status_code == 404
    assert browser.get(detail_url(held_client)).status_code == 404
    assert browser.post(reverse("matters:client_key_rotate", args=[held_client.pk])).status_code == 404
    denials = AuditEvent.objects.filter(action=AuditAction.CLIENT_KEYS_VIEW, outcome=Outcome.DENIED, actor=person)
    assert denials.count() == 3


def test_an_administrator_sees_the_list_too(held_client, adam, login):
    assertContains(login(adam).get(LIST), held_client.code)


def test_the_navigation_offers_client_keys_to_those_who_manage_them(dana, adam, alice, login):
    link = f'<a href="{LIST}">Client keys</a>'
    elsewhere = reverse("access:security")
    assertContains(login(dana).get(elsewhere), link, html=True)
    assertContains(login(adam).get(elsewhere), link, html=True)
    assertNotContains(login(alice).get(elsewhere), "Client keys")
    current = f'<a href="{LIST}" aria-current="page">Client keys</a>'
    assertContains(login(dana).get(LIST), current, html=True)


def test_the_list_costs_the_same_queries_for_three_clients_or_thirty(dana, login, django_assert_max_num_queries):
    browser = login(dana)
    for n in range(3):
        ClientFactory(name=f"Client {n}")
    with django_assert_max_num_queries(20) as few:
        browser.get(LIST)
    for n in range(27):
        ClientFactory(name=f"More {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assertContains(browser.get(LIST), "30 clients")


# --- legal hold ---------------------------------------------------------------------------------


def test_the_officer_places_a_hold_and_alone_sees_its_reason(held_client, dana, adam, login):
    response = login(dana).post(
        reverse("matters:client_legal_hold_set", args=[held_client.pk]), {"hold-reason": REASON}
    )

    assertRedirects(response, detail_url(held_client))
    assert Client.objects.get(pk=held_client.pk).legal_hold
    officer_page = login(dana).get(detail_url(held_client))
    assertContains(officer_page, REASON)
    admin_page = login(adam).get(detail_url(held_client))
    assertContains(admin_page, "On hold")
    assertNotContains(admin_page, REASON)


def test_a_hold_without_a_reason_is_named_on_the_form(held_client, dana, login):
    response = login(dana).post(reverse("matters:client_legal_hold_set", args=[held_client.pk]), {"hold-reason": ""})

    assert response.status_code == 400
    assertContains(response, "This field is required.", status_code=400)
    assert not Client.objects.get(pk=held_client.pk).legal_hold


def test_an_administrator_cannot_place_a_hold_and_is_told_why(held_client, adam, login):
    response = login(adam).post(
        reverse("matters:client_legal_hold_set", args=[held_client.pk]), {"hold-reason": REASON}
    )

    assertContains(response, "Only the security officer places or lifts a legal hold.", status_code=400)
    assert not Client.objects.get(pk=held_client.pk).legal_hold


def test_the_officer_lifts_a_hold(held_client, dana, login):
    set_legal_hold(actor=dana, client=held_client, reason=REASON)

    response = login(dana).post(
        reverse("matters:client_legal_hold_lift", args=[held_client.pk]), {"lift-reason": "Case closed"}
    )

    assertRedirects(response, detail_url(held_client))
    assert not Client.objects.get(pk=held_client.pk).legal_hold


# --- shredding ------------------------------------------------------------------------------------


def test_two_people_destroy_the_keys_through_the_screens(held_client, dana, adam, login):
    request_url = reverse("matters:client_shred_request", args=[held_client.pk])
    assertRedirects(login(dana).post(request_url, {"shred-code": held_client.code}), detail_url(held_client))
    shredding = ClientShredding.objects.get(client=held_client)
    officer_page = login(dana).get(detail_url(held_client))
    assertContains(officer_page, "someone else must approve")
    assertNotContains(officer_page, 'id="approve-form"')

    approve_url = reverse("matters:client_shred_approve", args=[shredding.pk])
    response = login(adam).post(approve_url, {"approve-code": held_client.code})

    assertRedirects(response, detail_url(held_client))
    shredding.refresh_from_db()
    assert shredding.status == ShreddingStatus.DONE
    page = login(adam).get(detail_url(held_client))
    assertContains(page, "keys destroyed on")
    listing = login(dana).get(LIST)
    assertContains(listing, "Destroyed")
    assertContains(listing, "approved by Adam Test")


def test_the_requester_approving_is_refused_on_the_page(held_client, dana, login):
    shredding = request_shredding(actor=dana, client=held_client)

    response = login(dana).post(
        reverse("matters:client_shred_approve", args=[shredding.pk]), {"approve-code": held_client.code}
    )

    assertContains(response, "One approver cannot shred alone.", status_code=400)
    assert DataKey.objects.get(owner=held_client.pk).state == KeyState.ACTIVE


def test_a_wrong_code_is_named_and_nothing_is_requested(held_client, dana, login):
    response = login(dana).post(
        reverse("matters:client_shred_request", args=[held_client.pk]), {"shred-code": "C-WRONG"}
    )

    assertContains(response, "This is not the code of this client.", status_code=400)
    assert not ClientShredding.objects.exists()


def test_a_request_under_legal_hold_is_refused_on_the_page(held_client, dana, login):
    set_legal_hold(actor=dana, client=held_client, reason=REASON)

    response = login(dana).post(
        reverse("matters:client_shred_request", args=[held_client.pk]), {"shred-code": held_client.code}
    )

    assertContains(response, "under legal hold", status_code=400)
    assert not ClientShredding.objects.exists()


def test_a_request_is_cancelled(held_client, dana, adam, login):
    shredding = request_shredding(actor=dana, client=held_client)

    assertRedirects(
        login(adam).post(reverse("matters:client_shred_cancel", args=[shredding.pk])), detail_url(held_client)
    )

    shredding.refresh_from_db()
    assert shredding.status == ShreddingStatus.CANCELLED
    assert shredding.cancelled_by == adam


# --- rotation, and the forms' plumbing ------------------------------------------------------------


def test_the_officer_starts_a_rotation_and_its_progress_shows(
    held_client, dana, login, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(dana).post(reverse("matters:client_key_rotate", args=[held_client.pk]))

    assertRedirects(response, detail_url(held_client))
    rotation = KeyRotation.objects.get(owner=held_client.pk)
    assert JobRun.objects.filter(job="vault.rotate_client_key").exists()
    listing = login(dana).get(LIST)
    assertContains(listing, "Checking for stragglers")
    assertContains(listing, f"rows {rotation.rows_total}/{rotation.rows_total}")
    assertContains(listing, "100%")


def test_an_administrator_cannot_rotate_and_is_told_why(held_client, adam, login):
    response = login(adam).post(reverse("matters:client_key_rotate", args=[held_client.pk]))

    assertContains(response, "Only the security officer rotates", status_code=400)
    assert not KeyRotation.objects.exists()


def test_actions_take_post_only(held_client, dana, login):
    assert login(dana).get(reverse("matters:client_key_rotate", args=[held_client.pk])).status_code == 405
    assert not KeyRotation.objects.exists()


def test_actions_need_the_csrf_token(held_client, dana):
    browser = signed_in(Browser(enforce_csrf_checks=True), dana)

    response = browser.post(reverse("matters:client_key_rotate", args=[held_client.pk]))

    assert response.status_code == 403
    assert not KeyRotation.objects.exists()
