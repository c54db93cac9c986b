"""Who holds what, and why: the oversight pages of administrators and the security officer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from access.access_requests import approve_access_request, request_access
from access.models import EmploymentStatus, GrantLevel, Role
from matters.models import Classification
from tests.conftest import signed_in
from tests.factories import MatterFactory, UserFactory, grant

# 09:00 in the firm's time zone (Asia/Shanghai), as the pages show it.
MORNING = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
PEOPLE = reverse("access:people")


def browser(user) -> Client:
    return signed_in(Client(), user)


def person_url(user) -> str:
    return reverse("access:person_access", kwargs={"user_id": user.pk})


def matter_url(matter) -> str:
    return reverse("access:matter_access", kwargs={"pk": matter.pk})


def section(response, element_id: str) -> str:
    return response.content.decode().split(f'id="{element_id}"')[1].split("</section>")[0]


@pytest.fixture
def clock():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def secret_matter(matter):
    """The matter with contents these viewers must never see."""
    matter.title = "Operation Bluefin"
    matter.description = "Undisclosed tender offer"
    matter.save()
    matter.client.name = "Marlin Holdings"
    matter.client.save()
    return matter


@pytest.fixture
def team(secret_matter, charlie):
    group = Group.objects.create(name="Bluefin deal team")
    group.user_set.add(charlie)
    grant(group, secret_matter, GrantLevel.DOWNLOAD)
    return group


def assert_no_contents(response) -> None:
    assert response.status_code == 200
    for secret in ("Operation Bluefin", "Undisclosed tender offer", "Marlin Holdings"):
        assertNotContains(response, secret)


# --- a person's access, and why ------------------------------------------------------------------------


@pytest.mark.parametrize("overseer", ["dana", "adam"])
def test_every_grant_of_a_person_shows_who_approved_which_request_when(
    overseer, request, clock, alice, charlie, secret_matter
):
    filed = request_access(
        actor=charlie, number=secret_matter.number, level=GrantLevel.DOWNLOAD, reason="Covers the data room",
        ends_on=date(2026, 3, 20),
    )  # fmt: skip
    clock.shift(timedelta(hours=2))
    approve_access_request(actor=alice, access_request=filed, note="fine")

    response = browser(request.getfixturevalue(overseer)).get(person_url(charlie))

    assert_no_contents(response)
    grants = section(response, "grants")
    assert secret_matter.number in grants and secret_matter.client.code in grants
    assert matter_url(secret_matter) in grants
    assert "Download" in grants
    assert "Covers the data room" in grants
    assert "Requested by Charlie Test on 2026-03-02 09:00" in grants
    assert "Approved by Alice Test as Responsible partner on 2026-03-02 11:00" in grants
    assert "end of 2026-03-20" in grants  # access lasts to the end of the 20th
    requests = section(response, "requests")
    assert "Approved" in requests and "Alice Test on 2026-03-02 11:00" in requests


def test_a_highly_confidential_grant_shows_both_approvals(clock, alice, charlie, dana, adam, secret_matter):
    secret_matter.classification = Classification.HIGHLY_CONFIDENTIAL
    secret_matter.save()
    filed = request_access(
        actor=charlie, number=secret_matter.number, level=GrantLevel.VIEW, reason="Second reader",
        ends_on=date(2026, 3, 10),
    )  # fmt: skip
    clock.shift(timedelta(hours=1))
    approve_access_request(actor=alice, access_request=filed)

    waiting = section(browser(adam).get(person_url(charlie)), "requests")
    assert "Pending" in waiting and "Approved by Alice Test as Responsible partner on 2026-03-02 10:00" in waiting

    clock.shift(timedelta(hours=1))
    approve_access_request(actor=dana, access_request=filed)

    grants = section(browser(adam).get(person_url(charlie)), "grants")
    assert "Approved by Alice Test as Responsible partner on 2026-03-02 10:00" in grants
    assert "Approved by Dana Test as Security officer on 2026-03-02 11:00" in grants


def test_grants_through_teams_are_shown_with_the_team(dana, charlie, secret_matter, team):
    response = browser(dana).get(person_url(charlie))

    assert_no_contents(response)
    through = section(response, "team-grants")
    assert "Bluefin deal team" in through and secret_matter.number in through and "Download" in through
    assert "No grant in person." in section(response, "grants")


def test_the_person_is_described_with_roles_status_and_manager(adam, alice, charlie):
    charlie.manager = alice
    charlie.employment_status = EmploymentStatus.DEPARTING
    charlie.departure_date = date(2031, 6, 30)
    charlie.department = "litigation"
    charlie.save()

    facts = section(browser(adam).get(person_url(charlie)), "person")

    assert "Lawyer" in facts and "Departing" in facts and "2031-06-30" in facts and "Litigation" in facts
    assert person_url(alice) in facts


def test_expired_grants_are_not_shown_as_held(dana, charlie, clock):
    lapsed = MatterFactory()
    grant(charlie, lapsed, GrantLevel.VIEW, expires_at=MORNING + timedelta(hours=1))
    as_dana = browser(dana)
    assertContains(as_dana.get(person_url(charlie)), lapsed.number)
    clock.shift(timedelta(hours=1))  # no job has run: the grant is still in the table

    assertNotContains(browser(dana).get(person_url(charlie)), lapsed.number)


# --- a matter's holders ------------------------------------------------------------------------------------


@pytest.mark.parametrize("overseer", ["dana", "adam"])
def test_a_matter_lists_everyone_who_holds_access_and_how(overseer, request, alice, bob, charlie, secret_matter, team):
    outsider = UserFactory(username="erin", first_name="Erin", last_name="Test", roles=(Role.LAWYER,))
    request_access(
        actor=outsider, number=secret_matter.number, level=GrantLevel.VIEW, reason="Helps with the filing",
        ends_on=timezone.localdate() + timedelta(days=5),
    )  # fmt: skip

    response = browser(request.getfixturevalue(overseer)).get(matter_url(secret_matter))

    assert_no_contents(response)
    assert secret_matter.client.code in section(response, "matter")
    assert person_url(alice) in section(response, "matter")  # the responsible partner
    direct = section(response, "direct")
    assert "Alice Test" in direct and "Manage" in direct and "Bob Test" in direct and "View" in direct
    assert person_url(bob) in direct
    teams = section(response, "teams")
    assert "Bluefin deal team" in teams and "Charlie Test" in teams and person_url(charlie) in teams
    assert "Download" in teams
    assert "Erin Test" in section(response, "pending")


def test_an_unknown_id_answers_404(dana):
    as_dana = browser(dana)

    assert as_dana.get(reverse("access:person_access", kwargs={"user_id": 987654})).status_code == 404
    assert as_dana.get(matter_url(MatterFactory.build())).status_code == 404


# --- the people list ---------------------------------------------------------------------------------------


def test_the_people_list_finds_people_and_shows_who_is_leaving(adam, alice, bob, charlie):
    bob.employment_status = EmploymentStatus.DEPARTING
    bob.departure_date = date(2031, 1, 15)
    bob.save()
    as_adam = browser(adam)

    everyone = as_adam.get(PEOPLE)
    leaving = section(everyone, "departing")
    assert "Bob Test" in leaving and "2031-01-15" in leaving and "Alice Test" not in leaving
    assert person_url(charlie) in everyone.content.decode()

    found = as_adam.get(PEOPLE, {"q": "charl"})
    listed = found.content.decode().split('id="people"')[1]
    assert "Charlie Test" in listed and "Alice Test" not in listed


# --- nobody else ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "root", "hr"])
def test_everyone_else_gets_404(who, request, secret_matter, charlie):
    person = UserFactory(username="harriet", roles=(Role.HR,)) if who == "hr" else request.getfixturevalue(who)
    visitor = browser(person)

    for url in (PEOPLE, person_url(charlie), matter_url(secret_matter)):
        assert visitor.get(url).status_code == 404, url


def test_a_persons_page_costs_the_same_few_queries_however_many_grants(
    adam, charlie, secret_matter, django_assert_max_num_queries
):
    as_adam = browser(adam)
    for _ in range(20):
        grant(charlie, MatterFactory(), GrantLevel.VIEW)
        team = Group.objects.create(name=f"Team {_}")
        team.user_set.add(charlie)
        grant(team, MatterFactory(), GrantLevel.VIEW)

    with django_assert_max_num_queries(20):
        assert as_adam.get(person_url(charlie)).status_code == 200
    with django_assert_max_num_queries(20):
        assert as_adam.get(matter_url(secret_matter)).status_code == 200
