"""Sign-in, second factor, lockout and sign-out leave audit events naming who, from where, in which session.

The helpers at the top (a browser with a known address and user agent, reading
the events of one action) are used by the other ``test_events_*`` files too.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from access.models import EmploymentStatus, Role
from access.sessions import AUTH_AT
from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from tests.access.test_second_factor import a_wrong_code
from tests.access.test_sign_in import ENROLL, T0, code_for, sign_in, submit_code, submit_password
from tests.conftest import signed_in
from tests.factories import UserFactory

IP = "198.51.100.23"
UA = "Mozilla/5.0 (Custos audit test)"
MATTERS = reverse("matters:list")
SIGN_OUT = reverse("access:logout")


def browser() -> Client:
    """A test client that comes from a known address with a known user agent."""
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=UA)


def events(action: str, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("id"))


def only_event(action: str, **filters) -> AuditEvent:
    found = events(action, **filters)
    assert len(found) == 1, f"expected one {action} event, found {len(found)}"
    return found[0]


def assert_from_browser(event: AuditEvent) -> None:
    """The event names the request's address and user agent, in the column and the record."""
    assert event.ip_address == IP
    assert event.record["ip"] == IP
    assert event.record["ua"] == UA


def assert_by(event: AuditEvent, user) -> None:
    assert event.actor_id == user.pk
    assert event.record["actor_id"] == user.pk
    assert event.record["actor"] == user.username


# --- signing in ---------------------------------------------------------------------------------


def test_a_sign_in_is_recorded_once_both_factors_passed_in_the_sessions_final_id(alice, matter):
    client = browser()
    with time_machine.travel(T0, tick=False):
        assert submit_password(client, alice).status_code == 302
        assert events(AuditAction.SIGN_IN) == []  # a password alone opens nothing yet

        submit_code(client, code_for(alice.totpdevice_set.get()))
        client.get(MATTERS)

    event = only_event(AuditAction.SIGN_IN)
    assert event.outcome == Outcome.SUCCESS
    assert_by(event, alice)
    assert_from_browser(event)
    assert event.record["detail"]["second_factor"] == "authenticator"
    # The sign-in and the pages that follow carry the same session reference...
    listing = only_event(AuditAction.MATTER_LIST)
    assert event.session_ref
    assert event.session_ref == event.record["session"] == listing.session_ref
    # ...which is not the session id itself (that would let a reader take the session over).
    assert event.session_ref not in client.cookies[settings.SESSION_COOKIE_NAME].value
    # The password step's session (rotated at the second factor) is named, so its refusals can be tied in.
    assert event.record["detail"]["password_session"] not in ("", event.session_ref)


def test_a_wrong_password_is_recorded_with_the_username_tried_and_no_actor(alice):
    client = browser()
    with time_machine.travel(T0, tick=False):
        assert submit_password(client, alice, password="not it").status_code == 200

    event = only_event(AuditAction.SIGN_IN_FAILED)
    assert event.outcome == Outcome.FAILURE
    assert event.actor_id is None
    assert event.record["detail"] == {"username": "alice"}
    assert event.record["actor"] == "alice"  # the review shows who was tried
    assert event.record["reason"] == "wrong username or password"
    assert_from_browser(event)
    assert events(AuditAction.SIGN_IN) == []


def test_an_unknown_username_is_recorded_as_typed(db):
    with time_machine.travel(T0, tick=False):
        browser().post(reverse("access:login"), {"username": "nobody-here", "password": "guess"})

    event = only_event(AuditAction.SIGN_IN_FAILED)
    assert event.record["detail"]["username"] == "nobody-here"
    assert event.actor_id is None


def test_the_password_is_never_recorded(alice):
    secret = "Tr0ub4dor&3-never-logged"
    with time_machine.travel(T0, tick=False):
        submit_password(browser(), alice, password=secret)

    assert secret not in bytes(only_event(AuditAction.SIGN_IN_FAILED).payload).decode()


# --- second factor ------------------------------------------------------------------------------


def test_a_wrong_code_is_recorded_against_the_person_and_tied_to_the_later_sign_in(alice):
    client = browser()
    device = alice.totpdevice_set.get()
    with time_machine.travel(T0, tick=False) as clock:
        submit_password(client, alice)
        submit_code(client, a_wrong_code(device))
        clock.shift(timedelta(minutes=1))  # past django-otp's pause after a failure
        submit_code(client, code_for(device))

    failure = only_event(AuditAction.SECOND_FACTOR_FAILED)
    assert failure.outcome == Outcome.FAILURE
    assert failure.record["reason"] == "wrong code"
    assert failure.record["detail"] == {"enrolment": False}
    assert_by(failure, alice)
    assert_from_browser(failure)
    assert failure.session_ref
    assert only_event(AuditAction.SIGN_IN).record["detail"]["password_session"] == failure.session_ref


def test_a_code_refused_because_of_too_many_wrong_ones_is_recorded_as_throttled(alice):
    client = browser()
    device = alice.totpdevice_set.get()
    with time_machine.travel(T0, tick=False) as clock:
        submit_password(client, alice)
        for _ in range(4):
            clock.shift(timedelta(seconds=1))
            submit_code(client, a_wrong_code(device))
        clock.shift(timedelta(seconds=2))
        submit_code(client, code_for(device))  # the right code, during the pause

    reasons = [event.record["reason"] for event in events(AuditAction.SECOND_FACTOR_FAILED)]
    assert reasons[-1] == "throttled"
    assert "wrong code" in reasons
    assert events(AuditAction.SIGN_IN) == []


def test_a_wrong_code_at_enrolment_is_recorded(db):
    newcomer = UserFactory(username="newcomer", roles=[Role.LAWYER])
    client = browser()
    with time_machine.travel(T0, tick=False):
        submit_password(client, newcomer)
        client.get(ENROLL)
        device = newcomer.totpdevice_set.get()
        client.post(ENROLL, {"token": a_wrong_code(device)})

    failure = only_event(AuditAction.SECOND_FACTOR_FAILED)
    assert_by(failure, newcomer)
    assert failure.record["reason"] == "wrong code"
    assert failure.record["detail"] == {"enrolment": True}


def test_enrolling_the_authenticator_completes_the_sign_in(db):
    newcomer = UserFactory(username="newcomer", roles=[Role.LAWYER])
    client = browser()
    with time_machine.travel(T0, tick=False):
        submit_password(client, newcomer)
        client.get(ENROLL)
        client.post(ENROLL, {"token": code_for(newcomer.totpdevice_set.get())})

    event = only_event(AuditAction.SIGN_IN)
    assert_by(event, newcomer)
    assert event.record["detail"]["enrolment"] is True


# --- lockout ------------------------------------------------------------------------------------


def test_the_fifth_wrong_password_records_a_lockout_and_each_later_try_another(alice):
    client = browser()
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            submit_password(client, alice, password="wrong")
        assert len(events(AuditAction.LOCKED_OUT)) == 1

        clock.shift(timedelta(minutes=1))
        assert submit_password(client, alice).status_code == 429  # even the right password

    lockouts = events(AuditAction.LOCKED_OUT)
    assert len(lockouts) == 2
    for event in lockouts:
        assert event.outcome == Outcome.DENIED
        assert event.actor_id is None
        assert event.record["detail"] == {"username": "alice"}
        assert event.record["reason"] == "too many failed sign-ins"
        assert_from_browser(event)
    failures = events(AuditAction.SIGN_IN_FAILED)
    assert len(failures) == settings.AXES_FAILURE_LIMIT + 1
    assert [event.record["reason"] for event in failures[:4]] == ["wrong username or password"] * 4
    assert failures[-1].record["reason"] == "sign-in paused"
    assert events(AuditAction.SIGN_IN) == []


# --- signing out --------------------------------------------------------------------------------


def test_signing_out_is_recorded_in_the_session_that_ended(alice, matter):
    client = signed_in(browser(), alice)
    client.get(MATTERS)
    client.post(SIGN_OUT)

    event = only_event(AuditAction.SIGN_OUT)
    assert event.outcome == Outcome.SUCCESS
    assert_by(event, alice)
    assert_from_browser(event)
    assert event.record["reason"] == ""
    assert event.session_ref == only_event(AuditAction.MATTER_LIST).session_ref != ""


def test_signing_out_when_not_signed_in_records_nothing(db):
    browser().post(SIGN_OUT)

    assert events(AuditAction.SIGN_OUT) == []


def _signed_in_at_t0(alice):
    client = browser()
    sign_in(client, alice)
    client.get(MATTERS)
    return client, only_event(AuditAction.MATTER_LIST).session_ref


def test_an_idle_session_ending_is_recorded_as_a_sign_out(alice, matter):
    with time_machine.travel(T0, tick=False) as clock:
        client, session = _signed_in_at_t0(alice)
        clock.shift(settings.SESSION_IDLE_TIMEOUT + timedelta(minutes=1))
        assert client.get(MATTERS).status_code == 302

    event = only_event(AuditAction.SIGN_OUT)
    assert_by(event, alice)
    assert_from_browser(event)
    assert event.record["reason"] == "idle"
    assert event.record["detail"] == {"automatic": True}
    assert event.session_ref == session


def test_a_session_past_its_absolute_limit_ending_is_recorded_as_expired(alice, matter):
    with time_machine.travel(T0, tick=False):
        client, session = _signed_in_at_t0(alice)
        stored = client.session
        stored[AUTH_AT] -= int(settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()) + 60
        stored.save()
        assert client.get(MATTERS).status_code == 302

    event = only_event(AuditAction.SIGN_OUT)
    assert event.record["reason"] == "expired"
    assert event.session_ref == session


def test_a_departed_persons_session_ending_is_recorded_as_departed(alice, matter):
    with time_machine.travel(T0, tick=False):
        client, session = _signed_in_at_t0(alice)
        alice.employment_status = EmploymentStatus.DEPARTED
        alice.save(update_fields=["employment_status"])
        assert client.get(MATTERS).status_code == 302

    event = only_event(AuditAction.SIGN_OUT)
    assert_by(event, alice)
    assert event.record["reason"] == "departed"
    assert event.session_ref == session


@pytest.mark.django_db(transaction=True)
def test_an_automatic_sign_out_is_kept_although_it_happens_outside_any_view(alice, matter):
    """The session limits run before the view's transaction opens: the event is written at once."""
    with time_machine.travel(T0, tick=False) as clock:
        client, _session = _signed_in_at_t0(alice)
        clock.shift(settings.SESSION_IDLE_TIMEOUT + timedelta(minutes=1))
        client.get(MATTERS)

    assert only_event(AuditAction.SIGN_OUT).record["reason"] == "idle"
