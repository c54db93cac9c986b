"""Login throttling (django-axes): 5 wrong passwords per username and address, then a 15-minute pause.

axes counts the failures whose ``attempt_time`` lies within AXES_COOLOFF_TIME
of the current attempt (``axes.attempts.get_cool_off_threshold``), both taken
from ``django.utils.timezone.now``, so time_machine moves the cool-off too.
"""

from __future__ import annotations

from datetime import timedelta

import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from access.services import ensure_role_groups
from tests.access.test_sign_in import T0, VERIFY, sign_in, submit_password, with_next

PAUSED = "Sign-in for this account from your address is paused after several wrong passwords."
WRONG = "not the password at all"


def fail(client, user, times: int, **extra) -> list[int]:
    return [submit_password(client, user, password=WRONG, **extra).status_code for _ in range(times)]


def test_five_wrong_passwords_pause_sign_in_even_with_the_right_one(client, alice):
    with time_machine.travel(T0, tick=False):
        statuses = fail(client, alice, 5)
        assert statuses[:4] == [200] * 4  # the sign-in form again, with its error

        response = submit_password(client, alice)

    assert response.status_code == 429
    assertContains(response, PAUSED, status_code=429)
    assertContains(response, "Try again in 15 minutes.", status_code=429)
    assert "_auth_user_id" not in client.session


def test_four_wrong_passwords_do_not_pause(client, alice):
    with time_machine.travel(T0, tick=False):
        fail(client, alice, 4)

        response = submit_password(client, alice)

    assertRedirects(response, with_next(VERIFY, "/"), fetch_redirect_response=False)


def test_the_pause_lifts_after_the_cool_off(client, alice):
    with time_machine.travel(T0, tick=False) as clock:
        fail(client, alice, 5)

        clock.shift(timedelta(minutes=16))
        response = submit_password(client, alice)

    assertRedirects(response, with_next(VERIFY, "/"), fetch_redirect_response=False)


def test_the_pause_lasts_the_whole_cool_off(client, alice):
    with time_machine.travel(T0, tick=False) as clock:
        fail(client, alice, 5)

        clock.shift(timedelta(minutes=14, seconds=59))
        response = submit_password(client, alice)

    assert response.status_code == 429


def test_trying_again_during_the_pause_restarts_it(client, alice):
    with time_machine.travel(T0, tick=False) as clock:
        fail(client, alice, 5)
        clock.shift(timedelta(minutes=10))
        assert submit_password(client, alice).status_code == 429

        clock.shift(timedelta(minutes=10))  # 20 minutes after the fifth failure, 10 after the last try
        assert submit_password(client, alice).status_code == 429

        clock.shift(timedelta(minutes=16))
        response = submit_password(client, alice)

    assertRedirects(response, with_next(VERIFY, "/"), fetch_redirect_response=False)


def test_a_successful_sign_in_clears_earlier_failures(client, alice):
    with time_machine.travel(T0, tick=False):
        fail(client, alice, 4)
        submit_password(client, alice)
        client.post(reverse("access:logout"))

        fail(client, alice, 4)
        response = submit_password(client, alice)

    assertRedirects(response, with_next(VERIFY, "/"), fetch_redirect_response=False)


def test_another_address_is_not_paused(client, alice):
    with time_machine.travel(T0, tick=False):
        fail(client, alice, 5, REMOTE_ADDR="203.0.113.7")

        response = submit_password(client, alice, REMOTE_ADDR="198.51.100.20")

    assertRedirects(response, with_next(VERIFY, "/"), fetch_redirect_response=False)


def test_another_account_from_the_same_address_is_not_paused(client, alice, bob):
    with time_machine.travel(T0, tick=False):
        fail(client, alice, 5)

        response = submit_password(client, bob)

    assertRedirects(response, with_next(VERIFY, "/"), fetch_redirect_response=False)


def test_a_forged_forwarded_for_header_does_not_escape_the_pause(client, alice):
    with time_machine.travel(T0, tick=False):
        fail(client, alice, 5)

        response = submit_password(client, alice, HTTP_X_FORWARDED_FOR="192.0.2.99")

    assert response.status_code == 429


def test_an_administrator_can_lift_the_pause(alice, adam):
    ensure_role_groups()
    with time_machine.travel(T0, tick=False):
        locked = Client()
        fail(locked, alice, 5)
        admin = Client()
        sign_in(admin, adam)

        listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
        assertContains(listing, "alice")
        attempt = AccessAttempt.objects.get(username="alice")
        response = admin.post(
            reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}, follow=True
        )
        assert response.status_code == 200
        assertNotContains(admin.get(reverse("admin:axes_accessattempt_changelist")), "alice")

        response = submit_password(locked, alice)

    assertRedirects(response, with_next(VERIFY, "/"), fetch_redirect_response=False)


def test_a_lawyer_cannot_lift_a_pause(alice, bob):
    ensure_role_groups()
    with time_machine.travel(T0, tick=False):
        fail(Client(), alice, 5)
        lawyer = Client()
        sign_in(lawyer, bob)
        attempt = AccessAttempt.objects.get(username="alice")

        lawyer.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})

    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
