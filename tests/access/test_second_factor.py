"""The second factor: enrolling an authenticator, backup codes, replay and throttling."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from access import otp
from access.models import Role
from access.services import ensure_role_groups
from tests.access.test_sign_in import (
    ENROLL,
    SIGN_IN,
    T0,
    VERIFY,
    code_for,
    sign_in,
    submit_code,
    submit_password,
    with_next,
)
from tests.factories import UserFactory

MATTERS = reverse("matters:list")
BACKUP_CODES = reverse("access:backup_codes")
SECURITY = reverse("access:security")
NOT_VALID = "That code is not valid, or it has already been used."
TOO_MANY = "Too many wrong codes. Try again in"


def shown_codes(response) -> list[str]:
    listing = re.search(r'<ul class="codes" id="backup-codes">(.*?)</ul>', response.content.decode(), re.S)
    return re.findall(r"<code>([^<]+)</code>", listing.group(1)) if listing else []


def a_wrong_code(device) -> str:
    right = code_for(device)
    return "123456" if right != "123456" else "654321"


def newcomer_after_password(client):
    user = UserFactory(username="newcomer", roles=[Role.LAWYER])
    submit_password(client, user)
    return user


def test_enrolment_shows_a_qr_code_and_the_secret_in_text(client, db):
    user = newcomer_after_password(client)

    response = client.get(ENROLL)

    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = otp.grouped(otp.base32_secret(device))
    assertContains(response, "<svg")
    assertContains(response, f'<code class="secret" id="totp-secret">{secret}</code>', html=False)
    assert len(secret.replace(" ", "")) == 32  # 160-bit key, base32
    # A reload shows the same secret: the phone already scanned may stay as it is.
    assertContains(client.get(ENROLL), secret)
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_a_wrong_confirmation_code_is_refused_with_an_explanation(client, db):
    user = newcomer_after_password(client)
    with time_machine.travel(T0, tick=False):
        client.get(ENROLL)
        device = TOTPDevice.objects.get(user=user)

        response = client.post(ENROLL, {"token": a_wrong_code(device)})

        assert response.status_code == 200
        assertContains(response, "That code does not match.")
        assertContains(response, "<svg")
        device.refresh_from_db()
        assert not device.confirmed
        assertRedirects(client.get(MATTERS), with_next(VERIFY, MATTERS), fetch_redirect_response=False)


def test_the_right_code_confirms_and_shows_ten_backup_codes_once(client, db):
    user = newcomer_after_password(client)
    with time_machine.travel(T0, tick=False):
        client.get(ENROLL)
        device = TOTPDevice.objects.get(user=user)

        response = client.post(ENROLL, {"token": code_for(device)})

        assertRedirects(response, with_next(BACKUP_CODES, "/"), fetch_redirect_response=False)
        device.refresh_from_db()
        assert device.confirmed
        response = client.get(response["Location"])
        codes = shown_codes(response)
        assert len(codes) == 10
        assert sorted(codes) == sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
        # The person is now fully signed in.
        assert client.get(MATTERS).status_code == 200

        # A reload (or a language switch) shows them again until the person says they are saved...
        assert sorted(shown_codes(client.get(BACKUP_CODES))) == sorted(codes)
        response = client.post(BACKUP_CODES, {"next": "/matters/"})
        assertRedirects(response, "/matters/", fetch_redirect_response=False)
        # ...and then never again.
        response = client.get(BACKUP_CODES, follow=True)
        assert response.redirect_chain == [(SECURITY, 302)]
        assertContains(response, "Backup codes are shown only once.")
        for code in codes:
            assertNotContains(response, code)


def test_a_backup_code_works_once_and_only_once(alice, matter):
    code = otp.replace_backup_codes(alice)[0]
    with time_machine.travel(T0, tick=False) as clock:
        first = Client()
        submit_password(first, alice)
        response = submit_code(first, code)
        assertRedirects(response, "/", fetch_redirect_response=False)
        assertContains(first.get(matter.get_absolute_url()), matter.title)
        assertContains(first.get(SECURITY), "<dd>9</dd>", html=False)
        assert otp.remaining_backup_codes(alice) == 9

        clock.shift(timedelta(minutes=10))
        second = Client()
        submit_password(second, alice)
        response = submit_code(second, code)

        assert response.status_code == 200  # the code page again, with an error
        assertRedirects(second.get(MATTERS), with_next(VERIFY, MATTERS), fetch_redirect_response=False)


def test_signing_in_with_a_backup_code_says_how_many_remain(client, alice):
    code = otp.replace_backup_codes(alice)[3]
    with time_machine.travel(T0, tick=False):
        submit_password(client, alice)
        response = client.post(VERIFY, {"token": code}, follow=True)

    assertContains(response, "You signed in with a backup code; 9 remain. Each code works once.")


def test_a_replayed_totp_code_is_refused_in_a_new_session(alice):
    device = alice.totpdevice_set.get()
    with time_machine.travel(T0, tick=False) as clock:
        code = code_for(device)
        sign_in(Client(), alice)

        # Someone who saw the code (over a shoulder, or from a phishing page) tries it at once.
        clock.shift(timedelta(seconds=5))
        thief = Client()
        submit_password(thief, alice)
        response = submit_code(thief, code)

        assert response.status_code == 200
        assertRedirects(thief.get(MATTERS), with_next(VERIFY, MATTERS), fetch_redirect_response=False)

        # The next code the phone shows still works.
        clock.shift(timedelta(seconds=30))
        assertRedirects(submit_code(thief, code_for(device)), "/", fetch_redirect_response=False)


def test_a_password_alone_can_never_add_a_device(client, alice):
    original = alice.totpdevice_set.get()
    submit_password(client, alice)

    response = client.get(ENROLL)
    assertRedirects(response, with_next(VERIFY, "/"), fetch_redirect_response=False)
    response = client.post(ENROLL, {"token": "123456"})
    assertRedirects(response, with_next(VERIFY, "/"), fetch_redirect_response=False)

    assert list(TOTPDevice.objects.filter(user=alice)) == [original]
    assertNotContains(client.get(ENROLL, follow=True), "<svg")


def test_a_single_wrong_code_is_called_wrong_not_too_many(client, alice):
    device = alice.totpdevice_set.get()
    with time_machine.travel(T0, tick=False):
        submit_password(client, alice)

        response = submit_code(client, a_wrong_code(device))

    assertContains(response, NOT_VALID)
    assertNotContains(response, "Too many")


def test_repeated_wrong_codes_are_throttled(client, alice):
    device = alice.totpdevice_set.get()
    with time_machine.travel(T0, tick=False) as clock:
        submit_password(client, alice)
        for _ in range(4):
            clock.shift(timedelta(seconds=1))
            submit_code(client, a_wrong_code(device))

        # Even the right code is refused while the pause lasts (8 s after four failures).
        clock.shift(timedelta(seconds=2))
        response = submit_code(client, code_for(device))
        assertContains(response, TOO_MANY)
        assertRedirects(client.get(MATTERS), with_next(VERIFY, MATTERS), fetch_redirect_response=False)

        clock.shift(timedelta(minutes=1))
        assertRedirects(submit_code(client, code_for(device)), "/", fetch_redirect_response=False)


def test_issuing_new_backup_codes_invalidates_the_old_ones(client, alice, login):
    old = otp.replace_backup_codes(alice)
    with time_machine.travel(T0, tick=False) as clock:
        login(alice)
        response = client.post(reverse("access:new_backup_codes"), follow=True)
        new = shown_codes(response)
        assert len(new) == 10
        assert not set(new) & set(old)
        assertContains(client.get(SECURITY), "<dd>10</dd>", html=False)

        other = Client()
        submit_password(other, alice)
        response = submit_code(other, old[0])
        assert response.status_code == 200
        clock.shift(timedelta(minutes=5))
        assertRedirects(submit_code(other, new[0]), "/", fetch_redirect_response=False)


def test_new_backup_codes_need_a_post(client, alice, login):
    old = otp.replace_backup_codes(alice)
    login(alice)

    assert client.get(reverse("access:new_backup_codes")).status_code == 405
    assert sorted(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True)) == sorted(old)


def test_admin_reset_of_the_second_factor_forces_enrolment(alice, adam):
    ensure_role_groups()
    otp.replace_backup_codes(alice)
    with time_machine.travel(T0, tick=False) as clock:
        alices_browser = Client()
        sign_in(alices_browser, alice)
        admin = Client()
        sign_in(admin, adam)

        response = admin.post(
            reverse("admin:access_user_changelist"),
            {"action": "reset_second_factor", "_selected_action": [alice.pk]},
            follow=True,
        )

        assertContains(response, "Second factor reset for 1 people.")
        assert not alice.totpdevice_set.exists()
        assert not alice.staticdevice_set.exists()
        # Her open session ends, and her next sign-in leads to enrolment.
        assertRedirects(alices_browser.get(MATTERS), with_next(SIGN_IN, MATTERS), fetch_redirect_response=False)
        clock.shift(timedelta(minutes=1))
        assertRedirects(submit_password(alices_browser, alice), with_next(ENROLL, "/"), fetch_redirect_response=False)
