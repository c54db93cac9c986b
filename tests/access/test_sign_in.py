"""Signing in: a password, then a code from the authenticator, before any matter data.

The helpers at the top drive the real sign-in pages through the test client;
the other access tests use them too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.urls import reverse
from django_otp.oath import totp
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from tests.factories import PASSWORD, UserFactory, grant, make_document

SIGN_IN = reverse("access:login")
VERIFY = reverse("access:verify")
ENROLL = reverse("access:enroll")
# A fixed instant in the middle of a TOTP step, so "the next step" is unambiguous.
T0 = datetime(2026, 3, 2, 1, 0, 10, tzinfo=UTC)


def code_for(device) -> str:
    """The code the person's authenticator app shows right now (time_machine moves "now")."""
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):0{device.digits}d}"


def with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}"


def submit_password(client, user, password: str = PASSWORD, next_url: str | None = None, **extra):
    data = {"username": user.username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post(SIGN_IN, data, **extra)


def submit_code(client, code: str, next_url: str | None = None):
    data = {"token": code}
    if next_url is not None:
        data["next"] = next_url
    return client.post(VERIFY, data)


def sign_in(client, user, device=None):
    """Both steps through the real pages; returns the response to the code."""
    device = device or user.totpdevice_set.get(confirmed=True)
    response = submit_password(client, user)
    assert response.status_code == 302, "the password step failed"
    response = submit_code(client, code_for(device))
    assert response.status_code == 302, "the code step failed"
    return response


def test_password_then_code_opens_the_matter_list(client, alice, matter):
    device = alice.totpdevice_set.get()
    with time_machine.travel(T0, tick=False) as clock:
        assertContains(client.get(SIGN_IN), "Step 1 of 2")
        response = submit_password(client, alice)
        assertRedirects(response, with_next(VERIFY, "/"), fetch_redirect_response=False)
        assertContains(client.get(VERIFY), "Step 2 of 2")

        clock.shift(timedelta(seconds=12))  # the person reads the code off their phone
        response = submit_code(client, code_for(device))
        assertRedirects(response, "/", fetch_redirect_response=False)

        response = client.get("/", follow=True)
        assertContains(response, matter.number)
        assert response.redirect_chain[-1][0] == reverse("matters:list")
        assertContains(client.get(matter.get_absolute_url()), matter.title)


def test_wrong_password_says_so_and_signs_nobody_in(client, alice, matter):
    response = submit_password(client, alice, password="not the password at all")

    assertContains(response, "The username or password is not correct. Both are case-sensitive.")
    assert "_auth_user_id" not in client.session
    response = client.get(matter.get_absolute_url())
    assertRedirects(response, with_next(SIGN_IN, matter.get_absolute_url()), fetch_redirect_response=False)


def test_unknown_username_gets_the_same_answer_as_a_wrong_password(client, db):
    response = client.post(SIGN_IN, {"username": "nobody-here", "password": PASSWORD})

    assertContains(response, "The username or password is not correct. Both are case-sensitive.")


def test_inactive_account_cannot_sign_in(client, bob, matter):
    bob.is_active = False
    bob.save(update_fields=["is_active"])

    response = submit_password(client, bob)

    assert response.status_code == 200
    assertContains(response, "not correct")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("matters:list")).status_code == 302


def _pages(matter, document):
    return {
        "matter list": reverse("matters:list"),
        "matter detail": matter.get_absolute_url(),
        "document download": reverse("matters:document_download", args=[document.pk]),
        "upload": reverse("matters:document_upload", args=[matter.pk]),
        "account security": reverse("access:security"),
        "backup codes": reverse("access:backup_codes"),
        "admin index": reverse("admin:index"),
        "admin users": reverse("admin:access_user_changelist"),
    }


@pytest.mark.parametrize(
    "page",
    [
        "matter list",
        "matter detail",
        "document download",
        "upload",
        "account security",
        "backup codes",
        "admin index",
        "admin users",
    ],
)
def test_after_the_password_alone_every_page_asks_for_the_code(client, root, alice, matter, page):
    # Root is a superuser with a grant here: even they see nothing until the code is entered.
    grant(root, matter)
    url = _pages(matter, make_document(matter))[page]
    submit_password(client, root)

    response = client.get(url)

    assertRedirects(response, with_next(VERIFY, url), fetch_redirect_response=False)
    assertNotContains(client.get(url, follow=True), matter.title)


def test_post_to_a_protected_page_after_the_password_alone_is_refused(client, alice, matter):
    submit_password(client, alice)

    response = client.post(reverse("access:new_backup_codes"))

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert not alice.staticdevice_set.exists()


def test_the_code_page_is_not_a_way_around_the_password(client, alice):
    device = alice.totpdevice_set.get()

    response = client.post(VERIFY, {"token": code_for(device)})

    assertRedirects(response, with_next(SIGN_IN, VERIFY), fetch_redirect_response=False)
    assert "_auth_user_id" not in client.session


def test_a_person_without_an_authenticator_is_taken_to_enrolment(client, matter):
    newcomer = UserFactory(username="newcomer")

    response = submit_password(client, newcomer)

    assertRedirects(response, with_next(ENROLL, "/"), fetch_redirect_response=False)
    # No matter page answers before enrolment: the code page sends them back to enrol.
    response = client.get(matter.get_absolute_url(), follow=True)
    assert response.redirect_chain[-1][0].startswith(ENROLL)
    assertContains(response, "Set up your authenticator")


def test_next_is_honoured_through_both_steps(client, alice, matter):
    target = matter.get_absolute_url()
    device = alice.totpdevice_set.get()
    with time_machine.travel(T0, tick=False):
        # An anonymous visitor to a matter is sent to sign in, remembering where they were going.
        response = client.get(target)
        assertRedirects(response, with_next(SIGN_IN, target), fetch_redirect_response=False)
        assertContains(client.get(response["Location"]), f'name="next" value="{target}"')

        response = submit_password(client, alice, next_url=target)
        assertRedirects(response, with_next(VERIFY, target), fetch_redirect_response=False)
        response = submit_code(client, code_for(device), next_url=target)
        assertRedirects(response, target)


@pytest.mark.parametrize("off_site", ["https://evil.example/phish", "//evil.example/phish", "javascript:alert(1)"])
def test_an_off_site_next_is_ignored(client, alice, off_site):
    device = alice.totpdevice_set.get()
    with time_machine.travel(T0, tick=False):
        response = submit_password(client, alice, next_url=off_site)
        assertRedirects(response, with_next(VERIFY, "/"), fetch_redirect_response=False)
        response = submit_code(client, code_for(device), next_url=off_site)
    assertRedirects(response, "/", fetch_redirect_response=False)
