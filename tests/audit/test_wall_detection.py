"""Detection of a screened person's attempts through an ethical wall, and of every emergency access.

Real events: the screened person's refused requests go through the matter pages (the policy
records them), emergency access through ``access.break_glass``; ``run_detection`` reads them.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from access.break_glass import open_in_emergency
from access.models import GrantLevel, WallKind
from access.wall_services import erect_wall
from audit.actions import Outcome
from audit.detection import run_detection
from audit.models import Alert, AuditEvent, Rule, Severity
from tests.factories import MatterFactory, UserFactory, enroll, grant, make_document

MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
EMERGENCY = "The client's hearing starts in an hour and the responsible partner is unreachable."


@pytest.fixture(autouse=True)
def _sequencer_does_not_wait(settings):
    """As in test_detection: chain this test's events at once, whatever gap earlier tests left."""
    settings.AUDIT_GAP_GRACE_SECONDS = -(10**9)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def detect(django_capture_on_commit_callbacks):
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return run_detection()

    return run


@pytest.fixture
def walled(matter, charlie, dana):
    """Charlie, on the litigation team that holds the matter, screened from it by a wall."""
    from django.contrib.auth.models import Group

    litigation = Group.objects.create(name="Litigation team")
    litigation.user_set.add(charlie)
    grant(litigation, matter, GrantLevel.DOWNLOAD)
    erect_wall(
        actor=dana,
        kind=WallKind.EXCLUSIONARY,
        client=matter.client,
        matter=matter,
        people=[charlie],
        reason="conflict",
        memo="stay out",
    )
    return matter


def alerts(rule) -> list[Alert]:
    return list(Alert.objects.filter(rule=rule).order_by("pk"))


# --- Attempts through a wall ------------------------------------------------------------------------


def test_a_screened_attempt_raises_a_high_alert_for_the_person_and_matter(walled, alice, charlie, login, detect):
    document = make_document(walled, uploader=alice)
    browser = login(charlie)
    assert browser.get(walled.get_absolute_url()).status_code == 404

    detect()

    [alert] = alerts(Rule.WALL_BREACH)
    assert (alert.severity, alert.subject_id, alert.subject_username) == (Severity.HIGH, charlie.pk, "charlie")
    assert (str(alert.matter_id), alert.matter_number) == (str(walled.pk), walled.number)
    assert alert.event_count == 1

    # More attempts on the same matter (its documents too) add to the open alert.
    assert browser.get(reverse("matters:document_detail", args=[document.pk])).status_code == 404
    assert browser.get(walled.get_absolute_url()).status_code == 404
    detect()

    [alert] = alerts(Rule.WALL_BREACH)
    assert alert.event_count == 3


def test_a_refusal_that_no_wall_caused_raises_no_wall_alert(matter, charlie, login, detect):
    assert login(charlie).get(matter.get_absolute_url()).status_code == 404  # no grant, no wall

    detect()

    assert alerts(Rule.WALL_BREACH) == []
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == 1


def test_each_screened_person_has_their_own_alert(walled, charlie, dana, login, client, detect):
    fred = UserFactory(username="fred", first_name="Fred", last_name="Test", roles=("lawyer",))
    enroll(fred)
    erect_wall(actor=dana, kind=WallKind.EXCLUSIONARY, client=walled.client, matter=walled, people=[fred],
               reason="conflict", memo="stay out")  # fmt: skip
    grant(fred, MatterFactory(), GrantLevel.VIEW)
    login(charlie).get(walled.get_absolute_url())
    client.logout()
    login(fred).get(walled.get_absolute_url())

    detect()

    assert sorted(alert.subject_username for alert in alerts(Rule.WALL_BREACH)) == ["charlie", "fred"]


def test_emergency_access_through_the_wall_is_refused_and_raises_the_wall_alert(walled, charlie, detect):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        open_in_emergency(user=charlie, number=walled.number, reason=EMERGENCY)

    detect()

    [alert] = alerts(Rule.WALL_BREACH)
    assert (alert.subject_id, alert.matter_number) == (charlie.pk, walled.number)
    assert alerts(Rule.BREAK_GLASS) == []


def test_attempts_on_two_walled_matters_are_two_alerts(walled, charlie, dana, login, detect):
    other = MatterFactory(number="2026-T-90010")
    grant(charlie, other, GrantLevel.VIEW)
    erect_wall(actor=dana, kind=WallKind.EXCLUSIONARY, client=other.client, matter=other, people=[charlie],
               reason="conflict", memo="stay out")  # fmt: skip
    browser = login(charlie)
    browser.get(walled.get_absolute_url())
    browser.get(other.get_absolute_url())

    detect()

    assert sorted(alert.matter_number for alert in alerts(Rule.WALL_BREACH)) == sorted([walled.number, other.number])


# --- Emergency access -----------------------------------------------------------------------------------


def test_emergency_access_raises_a_high_alert_naming_the_person_and_matter(matter, charlie, detect):
    access = open_in_emergency(user=charlie, number=matter.number, reason=EMERGENCY)

    detect()

    [alert] = alerts(Rule.BREAK_GLASS)
    assert (alert.severity, alert.subject_id, alert.subject_username) == (Severity.HIGH, charlie.pk, "charlie")
    assert (str(alert.matter_id), alert.matter_number) == (str(matter.pk), matter.number)
    assert alert.facts["break_glass_id"] == str(access.pk)
    assert "hearing" not in str(alert.facts)
    # Read once: a second run finds nothing new.
    detect()
    assert len(alerts(Rule.BREAK_GLASS)) == 1


def test_each_person_s_emergency_access_is_its_own_alert(matter, charlie, detect):
    fred = UserFactory(username="fred", roles=("lawyer",))
    open_in_emergency(user=charlie, number=matter.number, reason=EMERGENCY)
    open_in_emergency(user=fred, number=matter.number, reason=EMERGENCY)

    detect()

    assert sorted(alert.subject_username for alert in alerts(Rule.BREAK_GLASS)) == ["charlie", "fred"]


def test_every_emergency_access_raises_an_alert_even_by_the_same_person(matter, charlie, detect):
    other = MatterFactory(number="2026-T-90011")
    open_in_emergency(user=charlie, number=matter.number, reason=EMERGENCY)
    open_in_emergency(user=charlie, number=other.number, reason=EMERGENCY)

    detect()

    assert sorted(alert.matter_number for alert in alerts(Rule.BREAK_GLASS)) == sorted([matter.number, other.number])


def test_a_refused_emergency_access_raises_no_emergency_alert(matter, bob, detect):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        open_in_emergency(user=bob, number=matter.number, reason=EMERGENCY)  # Bob already holds a grant

    detect()

    assert alerts(Rule.BREAK_GLASS) == []
    assert alerts(Rule.WALL_BREACH) == []
