"""Detection rules: each fires at its threshold and not one event below, with time under control.

Events are recorded through ``record_event`` as the views do; ``run_detection``
chains them and reads them in chain order from where the last run stopped.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse

from access.models import EmploymentStatus
from audit import detection
from audit.actions import AuditAction, Outcome
from audit.alerts import transition_to, update_detection_settings
from audit.chain import chain_head
from audit.detection import run_detection
from audit.events import record_event
from audit.models import Alert, AlertStatus, AuditEvent, DetectionCursor, DetectionSettings, Rule, Severity
from jobs.models import JobOutcome
from jobs.services import run_job
from matters.models import Classification
from tests.conftest import signed_in
from tests.factories import MatterFactory, UserFactory, make_document

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)  # a working day
SATURDAY_10 = datetime(2026, 3, 7, 10, 0, tzinfo=SHANGHAI)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _sequencer_does_not_wait(settings):
    """time_machine moves Python's clock, not the database's, which stamps when a row was
    written; and on PostgreSQL the ids used by earlier tests leave a gap before this test's
    first event. The sequencer must chain past that gap at once (audit.chain)."""
    settings.AUDIT_GAP_GRACE_SECONDS = -(10**9)


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def document(matter, clock):
    return make_document(matter, title="Heron board minutes", name="heron-minutes.pdf")


@pytest.fixture
def detect(django_capture_on_commit_callbacks):
    """Run detection as the job does, with the after-commit e-mail really sent."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return run_detection()

    return run


def download(user, document, clock, times=1, every=SECOND):
    for _ in range(times):
        record_event(AuditAction.DOCUMENT_DOWNLOAD, target=document, actor=user)
        clock.shift(every)


def deny(clock, times=1, *, user=None, request=None, target=None, action=AuditAction.MATTER_VIEW, every=SECOND):
    for _ in range(times):
        record_event(action, target=target, outcome=Outcome.DENIED, actor=user, request=request, reason="no grant")
        clock.shift(every)


def alerts(rule) -> list[Alert]:
    return list(Alert.objects.filter(rule=rule).order_by("pk"))


def change_thresholds(actor, **values):
    update_detection_settings(actor=actor, values=values)


# --- Bulk downloads ---------------------------------------------------------------------


def test_bulk_download_fires_at_the_51st_download_in_ten_minutes_not_the_50th(bob, document, clock, detect):
    download(bob, document, clock, times=50, every=10 * SECOND)  # 50 downloads over 8 min 20 s
    detect()
    assert alerts(Rule.BULK_DOWNLOAD) == []

    download(bob, document, clock)
    detect()

    [alert] = alerts(Rule.BULK_DOWNLOAD)
    assert (alert.severity, alert.status, alert.subject_id, alert.subject_username) == (
        Severity.HIGH,
        AlertStatus.OPEN,
        bob.pk,
        "bob",
    )
    assert alert.event_count == 51
    assert alert.facts == {"count": 51, "minutes": 10, "threshold": 50}
    assert alert.window_start == MONDAY_10
    assert alert.window_end == MONDAY_10 + 500 * SECOND


def test_a_download_exactly_ten_minutes_earlier_is_outside_the_window(bob, document, clock, detect):
    download(bob, document, clock)  # 10:00:00
    download(bob, document, clock, times=49, every=0 * SECOND)  # 10:00:01
    clock.move_to(MONDAY_10 + timedelta(minutes=10))
    download(bob, document, clock, every=0 * SECOND)  # 10:10:00: the window (10:00:00, 10:10:00] holds 50
    detect()
    assert alerts(Rule.BULK_DOWNLOAD) == []

    download(bob, document, clock)  # 10:10:00 again: 51
    detect()
    [alert] = alerts(Rule.BULK_DOWNLOAD)
    assert alert.facts["count"] == 51
    assert alert.window_start == MONDAY_10 + SECOND


def test_downloads_of_different_people_and_refused_downloads_do_not_add_up(alice, bob, document, clock, detect):
    download(alice, document, clock, times=30)
    download(bob, document, clock, times=30)
    for _ in range(30):
        record_event(AuditAction.DOCUMENT_DOWNLOAD, target=document, actor=bob, outcome=Outcome.DENIED)
    detect()
    assert alerts(Rule.BULK_DOWNLOAD) == []


def test_a_changed_threshold_changes_when_the_rule_fires(dana, bob, document, clock, detect):
    change_thresholds(dana, bulk_download_count=5, bulk_download_minutes=1)
    download(bob, document, clock, times=5)
    detect()
    assert alerts(Rule.BULK_DOWNLOAD) == []

    download(bob, document, clock)
    detect()
    [alert] = alerts(Rule.BULK_DOWNLOAD)
    assert alert.facts == {"count": 6, "minutes": 1, "threshold": 5}


def test_a_switched_off_rule_does_not_fire(dana, bob, document, clock, detect):
    change_thresholds(dana, bulk_download_enabled=False)
    download(bob, document, clock, times=60)
    detect()
    assert alerts(Rule.BULK_DOWNLOAD) == []


# --- Bursts of denials ---------------------------------------------------------------------


def test_denial_burst_fires_at_the_10th_denial_in_five_minutes_not_the_9th(charlie, matter, document, clock, detect):
    deny(clock, 5, user=charlie, target=matter, every=30 * SECOND)
    deny(clock, 4, user=charlie, target=document, action=AuditAction.DOCUMENT_DOWNLOAD, every=30 * SECOND)
    detect()
    assert alerts(Rule.DENIAL_BURST) == []

    deny(clock, 1, user=charlie, target=matter)  # 10th, 4 min 30 s after the first
    detect()
    [alert] = alerts(Rule.DENIAL_BURST)
    assert (alert.severity, alert.subject_id, alert.event_count) == (Severity.HIGH, charlie.pk, 10)
    assert alert.facts == {"count": 10, "minutes": 5, "threshold": 10}


def test_a_denial_exactly_five_minutes_earlier_is_outside_the_window(charlie, matter, clock, detect):
    deny(clock, 1, user=charlie, target=matter)  # 10:00:00
    deny(clock, 8, user=charlie, target=matter)  # 10:00:01 … 10:00:08
    clock.move_to(MONDAY_10 + timedelta(minutes=5))
    deny(clock, 1, user=charlie, target=matter)  # 10:05:00: (10:00:00, 10:05:00] holds 9
    detect()
    assert alerts(Rule.DENIAL_BURST) == []


def test_denials_without_a_person_count_by_address(db, clock, detect):
    first = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")
    other = RequestFactory().get("/", REMOTE_ADDR="203.0.113.8")
    deny(clock, 9, request=first, action=AuditAction.SIGN_IN)
    deny(clock, 9, request=other, action=AuditAction.SIGN_IN)
    detect()
    assert alerts(Rule.DENIAL_BURST) == []

    deny(clock, 1, request=first, action=AuditAction.SIGN_IN)
    detect()
    [alert] = alerts(Rule.DENIAL_BURST)
    assert alert.subject_id is None
    assert alert.facts["ip"] == "203.0.113.7"
    assert alert.facts["count"] == 10

    deny(clock, 1, request=first, action=AuditAction.SIGN_IN)  # adds to the address's alert
    deny(clock, 1, request=other, action=AuditAction.SIGN_IN)  # the other address's 10th: its own alert
    detect()
    found = {a.facts["ip"]: a.event_count for a in alerts(Rule.DENIAL_BURST)}
    assert found == {"203.0.113.7": 11, "203.0.113.8": 10}


# --- Outside working hours ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "fires"),
    [
        (SATURDAY_10, True),
        (MONDAY_10, False),
        (datetime(2026, 3, 2, 7, 59, tzinfo=SHANGHAI), True),
        (datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI), False),
        (datetime(2026, 3, 2, 19, 59, 59, tzinfo=SHANGHAI), False),
        (datetime(2026, 3, 2, 20, 0, tzinfo=SHANGHAI), True),
    ],
    ids=["saturday-10:00", "monday-10:00", "monday-07:59", "monday-08:00", "monday-19:59:59", "monday-20:00"],
)
def test_off_hours_in_the_default_working_week(alice, matter, detect, local, fires):
    with time_machine.travel(local, tick=False):
        record_event(AuditAction.MATTER_VIEW, target=matter, actor=alice)
        detect()
    found = alerts(Rule.OFF_HOURS)
    assert bool(found) is fires
    if fires:
        [alert] = found
        assert (alert.severity, alert.subject_id, alert.matter_id, alert.matter_number) == (
            Severity.MEDIUM,
            alice.pk,
            matter.pk,
            matter.number,
        )
        assert alert.facts["local_time"] == local.strftime("%H:%M")
        assert alert.facts["weekday"] == local.weekday()


def test_off_hours_only_for_confidential_or_higher_and_only_successful_use(alice, detect):
    internal = MatterFactory(classification=Classification.INTERNAL)
    highly = MatterFactory(classification=Classification.HIGHLY_CONFIDENTIAL)
    with time_machine.travel(SATURDAY_10, tick=False):
        record_event(AuditAction.MATTER_VIEW, target=internal, actor=alice)
        record_event(AuditAction.MATTER_VIEW, target=highly, actor=alice, outcome=Outcome.DENIED)
        detect()
        assert alerts(Rule.OFF_HOURS) == []
        record_event(AuditAction.MATTER_VIEW, target=highly, actor=alice)
        detect()
    [alert] = alerts(Rule.OFF_HOURS)
    assert alert.matter_id == highly.pk


def test_off_hours_uses_the_configured_time_zone_and_working_days(dana, alice, matter, detect):
    change_thresholds(
        dana,
        time_zone="Europe/London",
        work_days=[0, 1, 2, 3, 4, 5],
        work_starts=time(9, 0),
        work_ends=time(17, 0),
    )
    saturday_london = datetime(2026, 3, 7, 10, 0, tzinfo=LONDON)  # a working day there now
    with time_machine.travel(saturday_london, tick=False):
        record_event(AuditAction.MATTER_VIEW, target=matter, actor=alice)
        detect()
    assert alerts(Rule.OFF_HOURS) == []

    with time_machine.travel(MONDAY_10, tick=False):  # 02:00 in London
        record_event(AuditAction.MATTER_VIEW, target=matter, actor=alice)
        detect()
    [alert] = alerts(Rule.OFF_HOURS)
    assert alert.facts == {"local_time": "02:00", "weekday": 0, "time_zone": "Europe/London", "min_classification": 30}


def test_off_hours_alerts_are_per_person_and_matter(alice, bob, matter, detect):
    other = MatterFactory()
    with time_machine.travel(SATURDAY_10, tick=False) as clock:
        for user, target in [(alice, matter), (alice, matter), (alice, other), (bob, matter)]:
            record_event(AuditAction.MATTER_VIEW, target=target, actor=user)
            clock.shift(SECOND)
        detect()
    found = {(a.subject_id, a.matter_id): a.event_count for a in alerts(Rule.OFF_HOURS)}
    assert found == {(alice.pk, matter.pk): 2, (alice.pk, other.pk): 1, (bob.pk, matter.pk): 1}


# --- Departing and departed staff ------------------------------------------------------------


def leave(user, status):
    user.employment_status = status
    user.save(update_fields=["employment_status"])


def test_activity_of_departing_and_departed_staff(alice, bob, charlie, clock, detect):
    leave(bob, EmploymentStatus.DEPARTING)
    leave(charlie, EmploymentStatus.DEPARTED)
    for user in (alice, bob, bob, charlie):
        record_event(AuditAction.MATTER_LIST, actor=user)
    detect()
    found = {a.subject_id: (a.severity, a.event_count, a.facts) for a in alerts(Rule.DEPARTING_STAFF)}
    assert found == {
        bob.pk: (Severity.HIGH, 2, {"employment_status": "departing"}),
        charlie.pk: (Severity.CRITICAL, 1, {"employment_status": "departed"}),
    }


def test_a_departing_persons_alert_becomes_critical_once_they_have_left(bob, clock, detect):
    leave(bob, EmploymentStatus.DEPARTING)
    record_event(AuditAction.MATTER_LIST, actor=bob)
    detect()
    leave(bob, EmploymentStatus.DEPARTED)
    record_event(AuditAction.MATTER_LIST, actor=bob)
    detect()
    [alert] = alerts(Rule.DEPARTING_STAFF)
    assert (alert.severity, alert.event_count, alert.facts["employment_status"]) == (Severity.CRITICAL, 2, "departed")


def test_the_status_of_each_person_is_read_once_per_batch(bob, charlie, clock, django_assert_num_queries):
    leave(bob, EmploymentStatus.DEPARTING)
    events = [record_event(AuditAction.MATTER_LIST, actor=user) for user in (bob, charlie) * 50]
    with django_assert_num_queries(1):
        findings = detection.departing_staff(events)
    assert [f.subject_id for f in findings] == [bob.pk]


# --- Merging, the cursor, idempotence ---------------------------------------------------------


def test_further_downloads_add_to_the_open_alert_without_a_new_email(dana, bob, document, clock, detect, mailoutbox):
    download(bob, document, clock, times=51)
    detect()
    download(bob, document, clock, times=5)
    detect()

    [alert] = alerts(Rule.BULK_DOWNLOAD)
    assert alert.event_count == 56
    assert alert.facts["count"] == 56
    assert alert.window_end == MONDAY_10 + 55 * SECOND
    assert len(mailoutbox) == 1


def test_a_closed_alert_or_one_over_a_day_old_is_not_added_to(dana, bob, document, clock, detect, mailoutbox):
    download(bob, document, clock, times=51)
    detect()
    [first] = alerts(Rule.BULK_DOWNLOAD)
    transition_to(first, AlertStatus.RESOLVED, actor=dana)

    clock.shift(timedelta(hours=1))
    download(bob, document, clock, times=51)
    detect()
    assert len(alerts(Rule.BULK_DOWNLOAD)) == 2

    clock.shift(timedelta(hours=25))
    download(bob, document, clock, times=51)
    detect()
    assert [a.event_count for a in alerts(Rule.BULK_DOWNLOAD)] == [51, 51, 51]
    assert len(mailoutbox) == 3


def test_a_second_run_finds_nothing_new(bob, document, clock, detect):
    download(bob, document, clock, times=51)
    first = detect()
    second = detect()

    assert first["raised"] == 1
    assert second == {"events": 0, "raised": 0, "merged": 0}
    assert len(alerts(Rule.BULK_DOWNLOAD)) == 1
    assert alerts(Rule.BULK_DOWNLOAD)[0].event_count == 51


def test_the_cursor_follows_the_chain_and_only_new_events_are_read(bob, document, clock, detect):
    download(bob, document, clock, times=3)
    detect()
    head_seq, _hash, _event = chain_head()
    assert DetectionCursor.objects.get().last_seq == head_seq

    download(bob, document, clock)
    assert detect()["events"] == 1
    assert DetectionCursor.objects.get().last_seq == head_seq + 1


def test_a_burst_split_across_batches_is_seen_once(bob, document, clock, detect, monkeypatch):
    monkeypatch.setattr(detection, "BATCH_SIZE", 7)
    download(bob, document, clock, times=60)
    counts = detect()
    [alert] = alerts(Rule.BULK_DOWNLOAD)
    assert alert.event_count == 60
    assert counts["raised"] == 1
    assert DetectionCursor.objects.get().last_seq == chain_head()[0]


def test_the_periodic_job_records_its_counts(bob, document, clock, django_capture_on_commit_callbacks):
    download(bob, document, clock, times=51)
    with django_capture_on_commit_callbacks(execute=True):
        run = run_job("audit.detect")
    assert run.outcome == JobOutcome.SUCCEEDED
    assert run.counts["raised"] == 1
    assert run.counts["events"] >= 51


# --- E-mail -----------------------------------------------------------------------------


def test_a_new_alert_is_emailed_once_to_the_security_officer_without_client_data(
    alice, dana, root, matter, document, clock, detect, mailoutbox
):
    UserFactory(username="nomail", email="", roles=["security_officer"])
    download(alice, document, clock, times=51)
    detect()
    detect()

    [alert] = alerts(Rule.BULK_DOWNLOAD)
    [message] = mailoutbox
    assert message.to == ["dana@example.test"]
    assert "High" in message.subject
    assert "alice downloaded 51 documents within 10 minutes." in message.body
    assert reverse("audit:alert_detail", args=[alert.pk]) in message.body
    text = message.subject + message.body
    for secret in (matter.title, matter.client.name, document.title, document.original_name, document.file.name):
        assert secret not in text


def test_the_link_in_the_email_is_absolute_when_the_site_url_is_known(
    bob, dana, document, clock, detect, mailoutbox, settings
):
    settings.SITE_URL = "https://custos.example.test/"
    download(bob, document, clock, times=51)
    detect()
    [alert] = alerts(Rule.BULK_DOWNLOAD)
    assert f"https://custos.example.test/audit/alerts/{alert.pk}/" in mailoutbox[0].body


def test_a_mail_failure_is_logged_without_data_and_does_not_fail_the_job(
    bob, dana, document, clock, detect, monkeypatch, caplog
):
    def refuse(*args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"dana@example.test": (550, b"no such user dana@example.test")})

    monkeypatch.setattr("audit.alerts.send_mail", refuse)
    download(bob, document, clock, times=51)
    with caplog.at_level(logging.ERROR, logger="audit.alerts"):
        counts = detect()

    assert counts["raised"] == 1
    assert Alert.objects.filter(rule=Rule.BULK_DOWNLOAD).exists()
    assert "SMTPRecipientsRefused" in caplog.text
    assert "dana@" not in caplog.text


def test_default_settings_are_the_issue_thresholds(db):
    row = DetectionSettings.current()
    assert (row.bulk_download_count, row.bulk_download_minutes) == (50, 10)
    assert (row.denial_burst_count, row.denial_burst_minutes) == (10, 5)
    assert row.off_hours_min_classification == Classification.CONFIDENTIAL


# --- From the e-mail to the events ------------------------------------------------------------


def test_the_alert_leads_to_the_events_it_counted(client, dana, bob, document, clock, detect):
    download(bob, document, clock, times=51)
    detect()
    [alert] = alerts(Rule.BULK_DOWNLOAD)

    signed_in(client, dana)
    page = client.get(reverse("audit:alert_detail", args=[alert.pk]))
    assert page.status_code == 200
    events = client.get(page.context["events_url"])
    assert events.status_code == 200
    assert events.context["form"].errors == {}
    shown = events.context["form"].event_filter().apply(AuditEvent.objects.all())
    assert shown.filter(action=AuditAction.DOCUMENT_DOWNLOAD).count() == 51
