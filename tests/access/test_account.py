"""The account security page: one's own sessions, signing out elsewhere, changing the password."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertRedirects

from access.models import UserSession
from tests.access.test_sign_in import sign_in, submit_password
from tests.factories import PASSWORD

SECURITY = reverse("access:security")
CHANGE_PASSWORD = reverse("access:change_password")
NEW_PASSWORD = "a much longer passphrase 2026"


def _two_sessions(alice):
    """Alice signs in on her laptop, and a minute later (a fresh code) on her phone."""
    laptop, phone = Client(HTTP_USER_AGENT="Laptop browser"), Client(HTTP_USER_AGENT="Phone browser")
    now = datetime.now(tz=UTC)
    with time_machine.travel(now - timedelta(minutes=1), tick=False):
        sign_in(laptop, alice)
    sign_in(phone, alice)
    return laptop, phone


def test_the_page_lists_where_one_is_signed_in_and_marks_this_session(alice, matter):
    laptop, _phone = _two_sessions(alice)
    response = laptop.get(SECURITY)
    assertContains(response, "Laptop browser")
    assertContains(response, "Phone browser")
    assertContains(response, "This session", count=2)  # the column heading and the one badge


def test_signing_out_other_sessions_ends_them_and_keeps_this_one(alice, matter):
    laptop, phone = _two_sessions(alice)
    response = laptop.post(reverse("access:sign_out_other_sessions"), follow=True)
    assertContains(response, "Signed out of 1 other session.")
    assert laptop.get(matter.get_absolute_url()).status_code == 200
    assertRedirects(
        phone.get(matter.get_absolute_url()),
        f"{reverse('access:login')}?next={matter.get_absolute_url()}",
        fetch_redirect_response=False,
    )
    assert UserSession.objects.filter(user=alice).count() == 1


def test_signing_out_other_sessions_needs_a_post(alice, login):
    assert login(alice).get(reverse("access:sign_out_other_sessions")).status_code == 405


def test_a_wrong_current_password_is_named_and_nothing_changes(alice, login):
    response = login(alice).post(
        CHANGE_PASSWORD, {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assertContains(response, "Your old password was entered incorrectly")
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_a_weak_new_password_is_refused_with_the_reason(alice, login):
    response = login(alice).post(
        CHANGE_PASSWORD, {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}
    )
    assertContains(response, "This password is too short")
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_changing_the_password_keeps_this_session_and_ends_the_others(alice, matter):
    laptop, phone = _two_sessions(alice)
    response = laptop.post(
        CHANGE_PASSWORD,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assertContains(response, "Your password was changed.")
    assert laptop.get(matter.get_absolute_url()).status_code == 200
    assert phone.get(matter.get_absolute_url()).status_code == 302
    assert list(UserSession.objects.filter(user=alice).values_list("session_key", flat=True)) == [
        laptop.session.session_key
    ]
    assert submit_password(Client(), alice, password=PASSWORD).status_code == 200  # the old one is refused
    assert submit_password(Client(), alice, password=NEW_PASSWORD).status_code == 302
