"""Hardening found in review: exact departure, per-session enrolment, private throttling records,
pages never cached, and the housekeeping of sessions."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.asserts import assertContains

from access import otp
from access.models import EmploymentStatus, Role, UserSession
from access.policy import visible_matters
from access.services import clear_expired_sessions
from jobs.services import run_job
from tests.access.test_sign_in import ENROLL, sign_in, submit_password
from tests.factories import PASSWORD, UserFactory


def _leaving(user, days_ago: int):
    user.employment_status = EmploymentStatus.DEPARTING
    user.departure_date = timezone.localdate() - timedelta(days=days_ago)
    user.save()


def test_on_the_departure_date_access_ends_before_any_job_runs(bob, matter, login):
    _leaving(bob, days_ago=-1)  # leaving tomorrow: today is still a working day
    assert list(visible_matters(bob)) == [matter]
    _leaving(bob, days_ago=0)  # access ends at the start of the departure date
    assert list(visible_matters(bob)) == []
    assert login(bob).get(matter.get_absolute_url()).status_code == 302  # their session ended


def test_someone_who_has_left_cannot_sign_in(bob, matter):
    _leaving(bob, days_ago=3)
    response = submit_password(Client(), bob)
    assertContains(response, "This account belongs to someone who has left the firm.")


def test_a_departed_administrator_loses_the_admin_site(adam, login):
    admin = login(adam)
    assert admin.get(reverse("admin:index")).status_code == 200
    _leaving(adam, days_ago=1)
    assert admin.get(reverse("admin:index")).status_code == 302


def test_each_session_shows_its_own_enrolment_secret(db):
    user = UserFactory(username="newcomer", roles=[Role.LAWYER])
    secrets = []
    for browser in (Client(), Client()):
        submit_password(browser, user)
        browser.get(ENROLL)
        secrets.append(otp.base32_secret(TOTPDevice.objects.get(user=user, confirmed=False)))
        assertContains(browser.get(ENROLL), otp.grouped(secrets[-1]))  # stable on reload
    assert secrets[0] != secrets[1]
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_failed_sign_ins_do_not_record_the_page_asked_for(db):
    Client().post(
        f"{reverse('access:login')}?next=/matters/%3Fq%3DMarlin%2BHoldings",
        {"username": "mallory", "password": "wrong"},
    )
    attempt = AccessAttempt.objects.get(username="mallory")
    assert "Marlin" not in attempt.get_data


def test_an_ipv6_neighbourhood_counts_as_one_address(db, settings):
    for host in range(settings.AXES_FAILURE_LIMIT):
        Client().post(
            reverse("access:login"),
            {"username": "alice", "password": "wrong"},
            REMOTE_ADDR=f"2001:db8:1:2::{host + 1:x}",
        )
    response = Client().post(
        reverse("access:login"), {"username": "alice", "password": "wrong"}, REMOTE_ADDR="2001:db8:1:2::ffff"
    )
    assert response.status_code == 429


def test_pages_for_a_signed_in_person_are_never_cached(alice, matter, login):
    client = login(alice)
    for url in (reverse("matters:list"), matter.get_absolute_url(), reverse("access:security")):
        cache_control = client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control


def test_the_housekeeping_job_drops_expired_sessions_and_their_records(alice, matter):
    sign_in(browser := Client(), alice)
    stale = UserSession.objects.create(user=alice, session_key="gone" * 8)
    Session.objects.filter(session_key=browser.session.session_key).update(
        expire_date=timezone.now() + timedelta(hours=1)
    )
    run = run_job("access.clear_expired_sessions")
    assert run.counts == {"sessions": 0, "records": 1}
    assert not UserSession.objects.filter(pk=stale.pk).exists()
    assert browser.get(matter.get_absolute_url()).status_code == 200

    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert clear_expired_sessions() == {"sessions": 1, "records": 1}
    assert browser.get(matter.get_absolute_url()).status_code == 302


def test_the_security_page_lists_only_live_sessions(alice, login):
    UserSession.objects.create(user=alice, session_key="gone" * 8, user_agent="Old laptop")
    client = login(alice)
    UserSession.objects.create(user=alice, session_key=client.session.session_key, user_agent="This laptop")
    response = client.get(reverse("access:security"))
    assert "Old laptop" not in response.content.decode()


def test_password_sign_in_still_works_for_someone_leaving_later(bob):
    bob.employment_status = EmploymentStatus.DEPARTING
    bob.departure_date = timezone.localdate() + timedelta(days=10)
    bob.save()
    assert submit_password(Client(), bob, password=PASSWORD).status_code == 302
