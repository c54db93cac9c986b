"""The security officer's report pages (access.report_views): for Dana only, recorded, named by number
and code, with a CSV and a printable transparency report."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from access.models import EthicalWall, GrantLevel, WallKind, WallMember
from audit.actions import AuditAction, Outcome
from audit.events import record_event
from audit.models import AuditEvent
from tests.conftest import signed_in
from tests.factories import MatterFactory, grant

MATTER_ACCESS = reverse("access:report_matter_access")
TRANSPARENCY = reverse("access:report_transparency")

# 09:00 in the firm's time zone (Asia/Shanghai) on three Mondays.
T1 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
T2 = T1 + timedelta(days=7)
T3 = T2 + timedelta(days=7)
NOW = T3 + timedelta(days=1)

SECRETS = ("Operation Bluefin", "Marlin Holdings")


def browser(user) -> Client:
    return signed_in(Client(), user)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def story(alice, bob, clock):
    """Alice manages a secret matter from T1; Bob views it from T1; a wall screens Bob from T2."""
    clock.move_to(T1)
    matter = MatterFactory(responsible_partner=alice, title="Operation Bluefin", client__name="Marlin Holdings")
    grant(alice, matter, GrantLevel.MANAGE)
    grant(bob, matter, GrantLevel.VIEW)
    wall = EthicalWall.objects.create(
        kind=WallKind.EXCLUSIONARY, client=matter.client, matter=matter, reason="x", memo="y", erected_at=T2
    )
    WallMember.objects.create(wall=wall, user=bob)
    clock.move_to(NOW)
    return matter


def last(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-id").first()


def section(response, element_id: str) -> str:
    return response.content.decode().split(f'id="{element_id}"')[1].split("</section>")[0]


# --- only the security officer ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "bob", "adam", "root", "harriet"])
@pytest.mark.parametrize(
    ("url", "action"),
    [(MATTER_ACCESS, AuditAction.REPORT_ACCESS), (TRANSPARENCY, AuditAction.REPORT_TRANSPARENCY)],
    ids=["matter-access", "transparency"],
)
def test_anyone_but_the_security_officer_gets_not_found_and_is_recorded(request, persona, url, action, story):
    person = request.getfixturevalue(persona)

    query = {"number": story.number} if url == MATTER_ACCESS else {"client": story.client.code}
    response = browser(person).get(url, query)

    assert response.status_code == 404
    refused = last(action)
    assert (refused.outcome, refused.actor_id) == (Outcome.DENIED, person.pk)


@pytest.mark.parametrize("url", [MATTER_ACCESS, TRANSPARENCY])
def test_reports_are_read_with_get_and_others_learn_not_even_that(url, dana, bob):
    assert browser(bob).post(url).status_code == 404
    assert browser(dana).post(url).status_code == 405


def test_signed_out_visitors_do_not_reach_the_reports(client):
    assert client.get(MATTER_ACCESS).status_code in (302, 404)
    assert client.get(TRANSPARENCY).status_code in (302, 404)


# --- who could access a matter at a time -------------------------------------------------------------------


def test_the_form_alone_records_nothing(dana):
    response = browser(dana).get(MATTER_ACCESS)

    assertContains(response, 'name="number"')
    assert last(AuditAction.REPORT_ACCESS) is None


def test_before_the_wall_bob_could_access_and_after_it_he_is_screened(dana, alice, bob, story):
    dana_browser = browser(dana)

    before = dana_browser.get(MATTER_ACCESS, {"number": story.number, "at": "2026-03-02T12:00"})
    after = dana_browser.get(MATTER_ACCESS, {"number": story.number, "at": "2026-03-16T09:00"})

    assert f'data-person="{bob.pk}"' in section(before, "could-access")
    assert f'data-person="{bob.pk}"' not in section(before, "screened")
    assert f'data-person="{alice.pk}"' in section(after, "could-access")
    assert f'data-person="{bob.pk}"' not in section(after, "could-access")
    screened = section(after, "screened")
    assert f'data-person="{bob.pk}"' in screened and "Exclusionary wall" in screened
    for response in (before, after):
        assertContains(response, story.client.code)
        for secret in SECRETS:
            assertNotContains(response, secret)


def test_the_report_is_recorded_with_the_matter_number_and_the_time(dana, story):
    browser(dana).get(MATTER_ACCESS, {"number": story.number, "at": "2026-03-02T12:00"})

    event = last(AuditAction.REPORT_ACCESS)
    assert (event.outcome, event.actor_id, event.matter_id) == (Outcome.SUCCESS, dana.pk, story.pk)
    assert event.record["detail"] == {"matter_number": story.number, "at": "2026-03-02T12:00:00+08:00"}


def test_without_a_time_the_report_is_for_now(dana, bob, story):
    response = browser(dana).get(MATTER_ACCESS, {"number": story.number, "at": ""})

    assert f'data-person="{bob.pk}"' in section(response, "screened")
    assertContains(response, "2026-03-17 09:00:00")


def test_group_membership_history_is_said_to_be_missing(dana, story):
    response = browser(dana).get(MATTER_ACCESS, {"number": story.number})

    assertContains(response, "Group membership history is not recorded")


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"number": "NO-SUCH-1"}, "No matter has this number."),
        ({"number": ""}, "Enter the matter number."),
        ({"number": "{number}", "at": "2027-01-01T00:00"}, "Choose a time that has passed"),
        ({"number": "{number}", "at": "1999-12-31T23:00"}, "Choose a time from 2000-01-01 on."),
        ({"number": "{number}", "at": "not a time"}, "Enter a date and time"),
    ],
)
def test_a_bad_request_names_the_problem(dana, story, query, error):
    query = {name: value.format(number=story.number) for name, value in query.items()}

    response = browser(dana).get(MATTER_ACCESS, query)

    assert response.status_code == 200
    assertContains(response, error)
    assertNotContains(response, 'id="could-access"')
    assert last(AuditAction.REPORT_ACCESS) is None


# --- the client transparency report ----------------------------------------------------------------------------


@pytest.fixture
def accesses(clock, alice, bob, charlie):
    """Bob and Charlie read two matters of one client in March; other events that do not count."""
    first = MatterFactory(title="Operation Bluefin", client__name="Marlin Holdings")
    second = MatterFactory(client=first.client)
    elsewhere = MatterFactory()
    clock.move_to(T1)
    record_event(AuditAction.MATTER_VIEW, target=first, actor=bob)
    record_event(AuditAction.DOCUMENT_DOWNLOAD, target=second, actor=bob)
    record_event(AuditAction.DOCUMENT_VIEW, target=second, actor=charlie)
    record_event(AuditAction.MATTER_VIEW, target=elsewhere, actor=alice)
    clock.move_to(T2)
    record_event(AuditAction.DOCUMENT_DOWNLOAD, target=first, actor=bob)
    clock.move_to(T1 - timedelta(days=30))
    record_event(AuditAction.MATTER_VIEW, target=first, actor=alice)  # before the period
    clock.move_to(NOW)
    return first, second


def transparency(user, client_code: str, **extra):
    query = {"client": client_code, "date_from": "2026-03-01", "date_to": "2026-03-16", **extra}
    return browser(user).get(TRANSPARENCY, query)


def test_the_page_counts_views_and_downloads_per_person_in_the_period(dana, alice, bob, charlie, accesses):
    first, second = accesses

    response = transparency(dana, first.client.code)

    table = section(response, "report")
    assert f'data-person="{bob.pk}"' in table and f'data-person="{charlie.pk}"' in table
    assert f'data-person="{alice.pk}"' not in table  # another client's matter; and before the period
    assert first.number in table and second.number in table
    for secret in SECRETS:
        assertNotContains(response, secret)
    event = last(AuditAction.REPORT_TRANSPARENCY)
    assert event.record["detail"] == {
        "client_code": first.client.code,
        "from": "2026-03-01",
        "to": "2026-03-16",
        "rows": 2,
        "format": "page",
    }


def test_the_csv_has_one_row_per_person_with_counts_and_matters(dana, bob, charlie, accesses):
    first, second = accesses

    response = transparency(dana, first.client.code, format="csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert header[:5] == ["Name", "Username", "Roles", "First access", "Last access"]
    assert header[5:] == [
        "Viewed matter",
        "Viewed document",
        "Downloaded document",
        "Uploaded document",
        "Opened a matter in an emergency",
        "Total",
        "Matters",
    ]
    assert [row[1] for row in rows] == ["bob", "charlie"]
    bobs = dict(zip(header, rows[0], strict=True))
    assert (bobs["Viewed matter"], bobs["Downloaded document"], bobs["Total"]) == ("1", "2", "3")
    assert bobs["First access"] == "2026-03-02T09:00:00+08:00"
    assert bobs["Last access"] == "2026-03-09T09:00:00+08:00"
    assert bobs["Matters"] == " ".join(sorted([first.number, second.number]))
    assert last(AuditAction.REPORT_TRANSPARENCY).record["detail"]["format"] == "csv"


def test_a_name_that_looks_like_a_formula_is_neutralised_in_the_csv(dana, bob, accesses):
    bob.first_name, bob.last_name = '=HYPERLINK("http://evil.test")', "+1"
    bob.save()

    response = transparency(dana, accesses[0].client.code, format="csv")

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8").lstrip("\ufeff"))))
    bobs = next(row for row in rows if row[1] == "bob")
    assert bobs[0] == '\'=HYPERLINK("http://evil.test") +1'


def test_the_printable_view_names_the_client_for_the_client_and_has_no_navigation(dana, accesses):
    first, _second = accesses

    response = transparency(dana, first.client.code, format="print")

    assertContains(response, "Marlin Holdings")
    assertNotContains(response, "Operation Bluefin")
    assertNotContains(response, 'class="site-header"')
    assertNotContains(response, "<script")
    assertContains(response, first.client.code)
    assert last(AuditAction.REPORT_TRANSPARENCY).record["detail"]["format"] == "print"


@pytest.mark.parametrize(
    ("dates", "error"),
    [
        ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "“To” is before “From”."),
        ({"date_from": "2020-01-01", "date_to": "2026-03-01"}, "at most 5 years"),
        ({"date_from": "2026-03-01", "date_to": "2026-12-31"}, "“To” is in the future"),
        ({"date_from": "", "date_to": "2026-03-01"}, "Enter the first day."),
        ({"date_from": "yesterday", "date_to": "2026-03-01"}, "Enter a date, such as"),
    ],
)
def test_a_bad_period_is_named_and_nothing_is_exported(dana, accesses, dates, error):
    for kind in ("", "csv", "print"):
        response = transparency(dana, accesses[0].client.code, format=kind, **dates)

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        assertContains(response, error)
    assert last(AuditAction.REPORT_TRANSPARENCY) is None


def test_an_unknown_client_code_is_named(dana, accesses):
    response = transparency(dana, "NO-SUCH-CLIENT")

    assertContains(response, "No client has this code.")
