"""The alert inbox, an alert's page and the thresholds form: the security officer's work on alerts.

Only Dana (security officer, second factor verified) reaches these pages; every
change she makes leaves a note on the alert and an audit event.
"""

from __future__ import annotations

import datetime
import json

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from audit.actions import AuditAction
from audit.alerts import AlertError, add_note, assign, transition_to
from audit.models import AlertNote, AlertStatus, AuditEvent, DetectionSettings, Rule, Severity
from tests.conftest import signed_in
from tests.factories import UserFactory

INBOX = reverse("audit:alerts")
SETTINGS = reverse("audit:detection_settings")


def make_alert(subject=None, *, rule=Rule.BULK_DOWNLOAD, status=AlertStatus.OPEN, severity=Severity.HIGH, **extra):
    from audit.models import Alert

    start = timezone.now() - datetime.timedelta(minutes=9)
    fields = {
        "rule": rule,
        "severity": severity,
        "status": status,
        "subject": subject,
        "subject_username": subject.get_username() if subject else "",
        "facts": {"count": 51, "minutes": 10, "threshold": 50},
        "event_count": 51,
        "first_event": 1,
        "last_event": 51,
        "window_start": start,
        "window_end": start + datetime.timedelta(minutes=8),
        **extra,
    }
    return Alert.objects.create(**fields)


@pytest.fixture
def alert(bob):
    return make_alert(bob)


@pytest.fixture
def off_hours_alert(alice, matter):
    return make_alert(
        alice,
        rule=Rule.OFF_HOURS,
        severity=Severity.MEDIUM,
        matter_id=matter.pk,
        matter_number=matter.number,
        event_count=3,
        facts={"local_time": "23:40", "weekday": 5, "time_zone": "Asia/Shanghai", "min_classification": 30},
    )


def detail(alert) -> str:
    return reverse("audit:alert_detail", args=[alert.pk])


def alert_events() -> list[dict]:
    return [e.record for e in AuditEvent.objects.filter(action=AuditAction.ALERT_UPDATE).order_by("id")]


# --- Who may see -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "charlie", "adam", "root"])
def test_only_the_security_officer_reaches_the_alert_pages(client, request, persona, alert):
    signed_in(client, request.getfixturevalue(persona))
    for url in (INBOX, detail(alert), SETTINGS):
        assert client.get(url).status_code == 404, url
    assert client.post(SETTINGS, thresholds(bulk_download_count="1")).status_code == 404
    assert client.post(detail(alert), {"action": "status", "status": "resolved"}).status_code == 404
    assert DetectionSettings.current().bulk_download_count == 50
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_the_security_officer_reaches_them(client, dana, alert):
    signed_in(client, dana)
    for url in (INBOX, detail(alert), SETTINGS):
        assert client.get(url).status_code == 200, url


def test_a_security_officer_without_a_verified_second_factor_does_not(client, dana, alert):
    client.force_login(dana)
    assert client.get(INBOX).status_code in (302, 404)


# --- The inbox -------------------------------------------------------------------------------


def test_the_inbox_shows_open_and_acknowledged_alerts_newest_first_with_counts(client, dana, alice, bob, charlie):
    older = make_alert(alice, created_at=timezone.now() - datetime.timedelta(hours=2))
    newer = make_alert(bob, status=AlertStatus.ACKNOWLEDGED)
    make_alert(charlie, status=AlertStatus.RESOLVED)
    response = signed_in(client, dana).get(INBOX)

    assert [a.pk for a in response.context["page"].object_list] == [newer.pk, older.pk]
    counts = {tab["label"]: tab["count"] for tab in response.context["tabs"]}
    assert counts == {
        "Open and acknowledged": 2,
        "Open": 1,
        "Acknowledged": 1,
        "Resolved": 1,
        "False positive": 0,
        "All": 3,
    }
    assertContains(response, "bob downloaded 51 documents within 10 minutes.")


def test_the_inbox_filters_by_status_rule_and_severity(client, dana, alice, bob, off_hours_alert):
    resolved = make_alert(bob, status=AlertStatus.RESOLVED)
    critical = make_alert(
        bob, rule=Rule.DEPARTING_STAFF, severity=Severity.CRITICAL, facts={"employment_status": "departed"}
    )
    signed_in(client, dana)

    def shown(**query):
        return {a.pk for a in client.get(INBOX, query).context["page"].object_list}

    assert shown(status="resolved") == {resolved.pk}
    assert shown(rule=Rule.OFF_HOURS) == {off_hours_alert.pk}
    assert shown(severity=Severity.CRITICAL) == {critical.pk}
    assert shown(status="all", rule=Rule.BULK_DOWNLOAD) == {resolved.pk}


def test_an_unknown_filter_is_named_and_left_out(client, dana, alert):
    response = signed_in(client, dana).get(INBOX, {"rule": "nonsense"})
    assertContains(response, "Rule: Select a valid choice.")
    assert [a.pk for a in response.context["page"].object_list] == [alert.pk]


def test_the_inbox_is_paginated_with_a_bounded_number_of_queries(client, dana, bob, django_assert_max_num_queries):
    for _ in range(30):
        make_alert(bob, assignee=dana)
    signed_in(client, dana)
    with django_assert_max_num_queries(12):
        response = client.get(INBOX)
    assert len(response.context["page"].object_list) == 25
    assert response.context["page"].paginator.count == 30


# --- An alert's page --------------------------------------------------------------------------


def test_the_alert_page_links_the_person_the_matter_and_the_events(client, dana, alice, matter, off_hours_alert):
    response = signed_in(client, dana).get(detail(off_hours_alert))

    assertContains(
        response,
        f"alice used matter {matter.number} outside working hours (3 events, the latest at 23:40 on Saturday, "
        "Asia/Shanghai time).",
    )
    assertContains(response, reverse("audit:person_timeline", args=[alice.pk]))
    assertContains(response, reverse("audit:matter_timeline", args=[matter.pk]))
    path, _sep, query = response.context["events_url"].partition("?")
    assert path == reverse("audit:events")
    local = timezone.localtime
    assert QueryDict(query).dict() == {
        "person_id": str(alice.pk),
        "matter_id": str(matter.pk),
        "since": local(off_hours_alert.window_start).strftime("%Y-%m-%dT%H:%M"),
        "until": local(off_hours_alert.window_end).strftime("%Y-%m-%dT%H:%M"),
    }
    for secret in (matter.title, matter.client.name):
        assertNotContains(response, secret)


def test_an_alert_that_does_not_exist_is_404(client, dana):
    assert signed_in(client, dana).get(reverse("audit:alert_detail", args=[999999])).status_code == 404


# --- Status ---------------------------------------------------------------------------------

ALLOWED = [
    (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
    (AlertStatus.OPEN, AlertStatus.RESOLVED),
    (AlertStatus.OPEN, AlertStatus.FALSE_POSITIVE),
    (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED),
    (AlertStatus.ACKNOWLEDGED, AlertStatus.FALSE_POSITIVE),
    (AlertStatus.ACKNOWLEDGED, AlertStatus.OPEN),
    (AlertStatus.RESOLVED, AlertStatus.OPEN),
    (AlertStatus.FALSE_POSITIVE, AlertStatus.OPEN),
]
REFUSED = [
    (AlertStatus.OPEN, AlertStatus.OPEN),
    (AlertStatus.RESOLVED, AlertStatus.ACKNOWLEDGED),
    (AlertStatus.RESOLVED, AlertStatus.FALSE_POSITIVE),
    (AlertStatus.FALSE_POSITIVE, AlertStatus.RESOLVED),
    (AlertStatus.FALSE_POSITIVE, AlertStatus.ACKNOWLEDGED),
]


@pytest.mark.parametrize(("before", "after"), ALLOWED)
def test_allowed_status_changes_are_recorded(dana, bob, before, after):
    alert = make_alert(bob, status=before)
    transition_to(alert, after, actor=dana, note="Checked with the partner.")

    alert.refresh_from_db()
    assert alert.status == after
    [note] = alert.notes.all()
    assert (note.author, note.status_from, note.status_to, note.text) == (
        dana,
        before,
        after,
        "Checked with the partner.",
    )
    [event] = alert_events()
    assert event["actor"] == "dana"
    assert event["detail"] == {"alert": alert.pk, "rule": alert.rule, "change": "status", "from": before, "to": after}


@pytest.mark.parametrize(("before", "after"), REFUSED)
def test_other_status_changes_are_refused(dana, bob, before, after):
    alert = make_alert(bob, status=before)
    with pytest.raises(AlertError):
        transition_to(alert, after, actor=dana)
    alert.refresh_from_db()
    assert alert.status == before
    assert not alert.notes.exists()
    assert alert_events() == []


def test_the_page_offers_only_the_allowed_changes(client, dana, bob):
    signed_in(client, dana)
    response = client.get(detail(make_alert(bob)))
    assert [status for status, _label in response.context["status_buttons"]] == [
        AlertStatus.ACKNOWLEDGED,
        AlertStatus.RESOLVED,
        AlertStatus.FALSE_POSITIVE,
    ]
    assertContains(response, "Mark as false positive")
    assertNotContains(response, "Reopen")

    response = client.get(detail(make_alert(bob, status=AlertStatus.RESOLVED)))
    assert [status for status, _label in response.context["status_buttons"]] == [AlertStatus.OPEN]


def test_changing_the_status_on_the_page(client, dana, alert):
    response = signed_in(client, dana).post(
        detail(alert), {"action": "status", "status": "acknowledged", "note": "Looking into it."}
    )
    assertRedirects(response, detail(alert))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    page = client.get(detail(alert))
    assertContains(page, "Status changed from Open to Acknowledged.")
    assertContains(page, "Looking into it.")


def test_a_refused_change_on_the_page_is_explained(client, dana, bob):
    alert = make_alert(bob, status=AlertStatus.RESOLVED)
    response = signed_in(client, dana).post(detail(alert), {"action": "status", "status": "acknowledged"})
    assert response.status_code == 200
    assertContains(response, "An alert that is “Resolved” cannot be changed to “Acknowledged”.")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


# --- Assignment ----------------------------------------------------------------------------


def test_an_alert_is_assigned_to_a_security_officer(dana, alert):
    officer = UserFactory(username="olga", roles=["security_officer"])
    assign(alert, officer, actor=dana)
    alert.refresh_from_db()
    assert alert.assignee == officer
    assert [n.text for n in alert.notes.all()] == ["Assigned to olga."]
    assert alert_events()[-1]["detail"]["assignee"] == "olga"

    assign(alert, None, actor=dana)
    alert.refresh_from_db()
    assert alert.assignee is None


@pytest.mark.parametrize("persona", ["alice", "charlie", "adam", "root"])
def test_an_alert_is_not_assigned_to_anyone_else(request, dana, alert, persona):
    with pytest.raises(AlertError):
        assign(alert, request.getfixturevalue(persona), actor=dana)
    alert.refresh_from_db()
    assert alert.assignee is None
    assert alert_events() == []


def test_the_assignee_choice_lists_security_officers_only(client, dana, charlie, alert):
    inactive = UserFactory(username="ivan", roles=["security_officer"], is_active=False)
    signed_in(client, dana)
    choices = {
        str(value) for value, _label in client.get(detail(alert)).context["assign_form"].fields["assignee"].choices
    }
    assert str(dana.pk) in choices
    assert str(charlie.pk) not in choices
    assert str(inactive.pk) not in choices

    response = client.post(detail(alert), {"action": "assign", "assignee": charlie.pk})
    assert response.status_code == 200
    assertContains(response, "Select a valid choice.")
    alert.refresh_from_db()
    assert alert.assignee is None

    assertRedirects(client.post(detail(alert), {"action": "assign", "assignee": dana.pk}), detail(alert))
    alert.refresh_from_db()
    assert alert.assignee == dana


# --- Notes ----------------------------------------------------------------------------------


def test_a_note_is_added_and_its_text_stays_out_of_the_audit_trail(client, dana, alert):
    text = "Bob says he was preparing the Heron bundle."
    assertRedirects(signed_in(client, dana).post(detail(alert), {"action": "note", "text": text}), detail(alert))
    assert [n.text for n in alert.notes.all()] == [text]
    assertContains(client.get(detail(alert)), text)
    [event] = alert_events()
    assert event["detail"] == {"alert": alert.pk, "rule": alert.rule, "change": "note"}
    assert "Heron" not in json.dumps(event)


def test_a_note_longer_than_2000_characters_is_refused(client, dana, alert):
    response = signed_in(client, dana).post(detail(alert), {"action": "note", "text": "x" * 2001})
    assert response.status_code == 200
    assertContains(response, "Ensure this value has at most 2000 characters (it has 2001).")
    assert not AlertNote.objects.exists()
    with pytest.raises(AlertError):
        add_note(alert, "x" * 2001, actor=dana)
    with pytest.raises(AlertError):
        add_note(alert, "   ", actor=dana)
    add_note(alert, "x" * 2000, actor=dana)
    assert AlertNote.objects.count() == 1


# --- Thresholds --------------------------------------------------------------------------


def thresholds(**changes) -> dict:
    data = {
        "bulk_download_enabled": "on",
        "bulk_download_count": "50",
        "bulk_download_minutes": "10",
        "denial_burst_enabled": "on",
        "denial_burst_count": "10",
        "denial_burst_minutes": "5",
        "off_hours_enabled": "on",
        "off_hours_min_classification": "30",
        "work_days": ["0", "1", "2", "3", "4"],
        "work_starts": "08:00",
        "work_ends": "20:00",
        "time_zone": "",
        "departing_staff_enabled": "on",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def test_the_thresholds_form_saves_and_records_who_changed_it(client, dana):
    signed_in(client, dana)
    response = client.post(
        SETTINGS,
        thresholds(bulk_download_count="80", work_days=["0", "1", "2", "3", "4", "5"], time_zone="Europe/London",
                   work_ends="18:30", departing_staff_enabled=None),
    )  # fmt: skip
    assertRedirects(response, SETTINGS)

    row = DetectionSettings.current()
    assert (row.bulk_download_count, row.work_days, row.time_zone, row.work_ends, row.departing_staff_enabled) == (
        80,
        [0, 1, 2, 3, 4, 5],
        "Europe/London",
        datetime.time(18, 30),
        False,
    )
    assert row.updated_by == dana
    [event] = AuditEvent.objects.filter(action=AuditAction.DETECTION_SETTINGS_CHANGE)
    assert event.actor_id == dana.pk
    assert event.record["detail"] == {
        "changed": {
            "bulk_download_count": 80,
            "work_days": [0, 1, 2, 3, 4, 5],
            "time_zone": "Europe/London",
            "work_ends": "18:30",
            "departing_staff_enabled": False,
        }
    }
    assertContains(client.get(SETTINGS), "Last changed by dana")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bulk_download_count": "0"}, "More than this many downloads: Enter a number of 1 or more."),
        ({"denial_burst_count": "0"}, "This many denials or more: Enter a number of 1 or more."),
        (
            {"bulk_download_minutes": "0"},
            "Downloads within minutes: Enter a number of minutes from 1 to 1440 (one day).",
        ),
        (
            {"denial_burst_minutes": "1441"},
            "Denials within minutes: Enter a number of minutes from 1 to 1440 (one day).",
        ),
        ({"work_starts": "20:00", "work_ends": "08:00"}, "Working day ends: The working day must end after it starts."),
        ({"work_starts": "09:00", "work_ends": "09:00"}, "Working day ends: The working day must end after it starts."),
        ({"work_days": None}, "Working days: This field is required."),
        ({"time_zone": "Mars/Olympus_Mons"}, "“Mars/Olympus_Mons” is not a time zone name"),
        ({"bulk_download_count": "many"}, "More than this many downloads: Enter a whole number."),
    ],
    ids=["no-downloads", "no-denials", "zero-min", "over-a-day", "ends-first", "no-hours", "no-days", "zone", "nan"],
)
def test_invalid_thresholds_are_named_on_the_page_and_not_saved(client, dana, changes, message):
    response = signed_in(client, dana).post(SETTINGS, thresholds(**changes))
    assert response.status_code == 200
    assertContains(response, message)
    assertContains(response, "The thresholds were not saved")
    row = DetectionSettings.current()
    assert (row.bulk_download_count, row.updated_by) == (50, None)
    assert not AuditEvent.objects.filter(action=AuditAction.DETECTION_SETTINGS_CHANGE).exists()


def test_the_thresholds_form_shows_the_current_values(client, dana):
    response = signed_in(client, dana).get(SETTINGS)
    assertContains(response, 'name="bulk_download_count" value="50"')
    assertContains(response, 'name="work_starts" value="08:00"')
    assertContains(response, 'value="5" id="id_work_days_5"')  # Saturday, unticked
    assertNotContains(response, "Last changed by")
