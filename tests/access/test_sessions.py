"""Sessions: kept in the database, renewed at each privilege change, and limited in time."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from pytest_django.asserts import assertContains, assertRedirects

from access.models import UserSession
from tests.access.test_sign_in import SIGN_IN, T0, VERIFY, code_for, sign_in, submit_code, submit_password, with_next

EXPIRED = "You were signed out because your session expired. Please sign in again."
MATTERS = reverse("matters:list")


def session_key(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_sessions_are_stored_in_the_database(client, alice):
    with time_machine.travel(T0, tick=False):
        sign_in(client, alice)

        key = session_key(client)
        session = Session.objects.get(session_key=key)
        assert session.get_decoded()["_auth_user_id"] == str(alice.pk)
        assert UserSession.objects.get(session_key=key).user == alice
        assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_session_id_changes_at_sign_in_and_again_at_the_second_factor(client, alice):
    planted = client.session  # a session id an attacker might have planted before sign-in
    planted["planted"] = True
    planted.save()
    before = session_key(client)
    with time_machine.travel(T0, tick=False):
        submit_password(client, alice)
        after_password = session_key(client)
        submit_code(client, code_for(alice.totpdevice_set.get()))
        after_code = session_key(client)

        assert len({before, after_password, after_code}) == 3
        # The older ids no longer open anything.
        assert not Session.objects.filter(session_key__in=[before, after_password]).exists()
        assert list(UserSession.objects.filter(user=alice).values_list("session_key", flat=True)) == [after_code]
        assert client.get(MATTERS).status_code == 200


def test_idle_for_more_than_30_minutes_signs_the_person_out(client, alice, matter):
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, alice)
        assert client.get(MATTERS).status_code == 200

        clock.shift(timedelta(minutes=31))
        response = client.get(matter.get_absolute_url())

        assertRedirects(response, with_next(SIGN_IN, matter.get_absolute_url()), fetch_redirect_response=False)
        assertContains(client.get(response["Location"]), EXPIRED)
        assert not UserSession.objects.filter(user=alice).exists()
        assert client.get(MATTERS).status_code == 302


def test_activity_within_30_minutes_keeps_the_session(client, alice, matter):
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, alice)
        # 25 + 25 + 25 minutes: well past 30 minutes since sign-in, never 30 idle.
        for _ in range(3):
            clock.shift(timedelta(minutes=25))
            assertContains(client.get(matter.get_absolute_url()), matter.title)


def test_twelve_hours_after_sign_in_the_session_ends_even_if_active(client, alice, matter):
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, alice)
        for _ in range(35):  # every 20 minutes for 11 h 40 min
            clock.shift(timedelta(minutes=20))
            assert client.get(MATTERS).status_code == 200

        clock.shift(timedelta(minutes=21))  # 12 h 01 min after sign-in, 21 min after the last page
        response = client.get(MATTERS)

        assertRedirects(response, with_next(SIGN_IN, MATTERS), fetch_redirect_response=False)
        assertContains(client.get(response["Location"]), EXPIRED)


def test_sign_out_is_post_only_and_ends_the_session(client, alice):
    with time_machine.travel(T0, tick=False):
        sign_in(client, alice)
        key = session_key(client)

        # A link or an <img src> cannot sign anyone out.
        assert client.get(reverse("access:logout")).status_code == 405
        assert client.get(MATTERS).status_code == 200

        response = client.post(reverse("access:logout"), follow=True)

        assert response.redirect_chain[0] == (SIGN_IN, 302)
        assertContains(response, "You have signed out.")
        assert not UserSession.objects.filter(user=alice).exists()
        assert not Session.objects.filter(session_key=key).exists()
        assert client.get(MATTERS).status_code == 302


def test_signing_in_again_with_the_password_alone_does_not_renew_the_second_factor(client, alice, matter):
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, alice)
        for _ in range(35):  # active all day
            clock.shift(timedelta(minutes=20))
            assert client.get(MATTERS).status_code == 200

        # Signing in again in the same browser, with the password alone, must not carry the
        # old second factor over (or the 12-hour limit restarts without the phone).
        submit_password(client, alice)
        response = client.get(matter.get_absolute_url())

        assertRedirects(response, with_next(VERIFY, matter.get_absolute_url()), fetch_redirect_response=False)
