"""Enrolment takes codes as people type them, and says when it is pausing."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.asserts import assertContains, assertRedirects

from access.models import Role
from tests.access.test_sign_in import ENROLL, T0, code_for, submit_password
from tests.factories import UserFactory


def _newcomer(client):
    user = UserFactory(username="newcomer", roles=[Role.LAWYER])
    submit_password(client, user)
    client.get(ENROLL)
    return TOTPDevice.objects.get(user=user, confirmed=False)


def test_a_code_typed_with_a_space_is_accepted(client, db):
    with time_machine.travel(T0, tick=False):
        device = _newcomer(client)
        code = code_for(device)
        response = client.post(ENROLL, {"token": f"{code[:3]} {code[3:]}"})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed


def test_a_right_code_during_the_pause_is_told_to_wait_not_that_it_is_wrong(client, db):
    with time_machine.travel(T0, tick=False) as clock:
        device = _newcomer(client)
        client.post(ENROLL, {"token": "000000" if code_for(device) != "000000" else "111111"})
        response = client.post(ENROLL, {"token": code_for(device)})
        assertContains(response, "Too many wrong codes. Try again in 1 second.")
        clock.shift(timedelta(seconds=2))
        assertRedirects(
            client.post(ENROLL, {"token": code_for(device)}),
            "/account/security/backup-codes/?next=%2F",
            fetch_redirect_response=False,
        )
