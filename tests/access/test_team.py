"""The matter team page: the responsible partner adds, changes and revokes access (access.team_views)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from access.access_requests import approve_access_request
from access.models import (
    AccessRequest,
    ApprovalCapacity,
    GrantLevel,
    MatterGroupGrant,
    MatterUserGrant,
    Notification,
    NotificationKind,
    RequestStatus,
)
from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from matters.models import Classification
from tests.conftest import signed_in
from tests.factories import MatterFactory, UserFactory, enroll, grant


def browser(user) -> Client:
    """A separate browser for each person, so that two can act in one test."""
    return signed_in(Client(), user)


def team_url(matter) -> str:
    return reverse("access:team", kwargs={"pk": matter.pk})


def revoke_url(grant_row) -> str:
    name = "access:team_revoke_user" if isinstance(grant_row, MatterUserGrant) else "access:team_revoke_group"
    return reverse(name, kwargs={"pk": grant_row.content_object_id, "grant_id": grant_row.pk})


def add_person(client, matter, person, level=GrantLevel.VIEW, reason="Joins the due diligence", ends_on=""):
    data = {"add": "person", "person-user": person.pk if person else "", "person-level": level}
    data |= {"person-reason": reason, "person-ends_on": ends_on}
    return client.post(team_url(matter), data)


def add_group(client, matter, group, level=GrantLevel.VIEW, reason="The deal team", ends_on=""):
    data = {"add": "group", "group-group": group.pk, "group-level": level, "group-reason": reason}
    return client.post(team_url(matter), data | {"group-ends_on": ends_on})


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def team():
    return Group.objects.create(name="Bluefin deal team")


@pytest.fixture
def highly_confidential(matter):
    matter.classification = Classification.HIGHLY_CONFIDENTIAL
    matter.save()
    return matter


def in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


# --- the page -----------------------------------------------------------------------------------------


def test_the_matter_page_links_to_the_team_page_for_its_manager_only(alice, bob, matter):
    assertContains(browser(alice).get(matter.get_absolute_url()), team_url(matter))
    assertNotContains(browser(bob).get(matter.get_absolute_url()), team_url(matter))


def test_the_team_page_shows_who_holds_access_and_where_it_came_from(alice, bob, charlie, matter, team):
    grant(team, matter, GrantLevel.DOWNLOAD)
    team.user_set.add(charlie, UserFactory())
    response = browser(alice).get(team_url(matter))

    assert response.status_code == 200
    assertContains(response, matter.title)
    bob_row = _row(response, MatterUserGrant.objects.get(user=bob))
    assert "Bob Test" in bob_row and "View" in bob_row and "no end date" in bob_row
    group_row = _row(response, MatterGroupGrant.objects.get(group=team))
    assert "Bluefin deal team" in group_row and "<td>2</td>" in group_row and "Download" in group_row


def test_someone_who_only_views_the_matter_gets_404_everywhere_on_the_team_page(bob, charlie, matter, team):
    group_grant = grant(team, matter, GrantLevel.VIEW)
    alice_grant = MatterUserGrant.objects.get(content_object=matter, user__username="alice")
    as_bob = browser(bob)

    assert as_bob.get(team_url(matter)).status_code == 404
    assert add_person(as_bob, matter, charlie).status_code == 404
    assert as_bob.post(revoke_url(alice_grant), {"reason": "taking over"}).status_code == 404
    assert as_bob.post(revoke_url(group_grant), {"reason": "taking over"}).status_code == 404

    assert MatterUserGrant.objects.filter(pk=alice_grant.pk).exists()
    assert MatterGroupGrant.objects.filter(pk=group_grant.pk).exists()
    assert not MatterUserGrant.objects.filter(user=charlie).exists()
    refusals = AuditEvent.objects.filter(actor=bob, outcome=Outcome.DENIED, matter_id=matter.pk)
    assert set(refusals.values_list("action", flat=True)) == {AuditAction.GRANT_CREATE, AuditAction.GRANT_REVOKE}


# --- adding and changing ------------------------------------------------------------------------------


def test_the_partner_adds_a_person_who_can_then_open_the_matter(alice, charlie, matter):
    as_charlie = browser(charlie)
    assert as_charlie.get(matter.get_absolute_url()).status_code == 404

    response = add_person(browser(alice), matter, charlie, GrantLevel.DOWNLOAD)

    assertRedirects(response, team_url(matter), fetch_redirect_response=False)
    assertContains(as_charlie.get(matter.get_absolute_url()), matter.title)
    held = MatterUserGrant.objects.get(user=charlie, content_object=matter)
    assert (held.level, held.granted_by, held.expires_at, held.reason) == (
        GrantLevel.DOWNLOAD,
        alice,
        None,
        "Joins the due diligence",
    )
    event = AuditEvent.objects.filter(action=AuditAction.GRANT_CREATE, actor=alice, matter_id=matter.pk).get()
    assert event.record["detail"]["user"] == "charlie"
    note = Notification.objects.get(recipient=charlie)
    assert (note.kind, note.params["number"]) == (NotificationKind.GRANT_ADDED, matter.number)


def test_the_page_says_who_was_given_access_and_shows_them_in_the_team(alice, charlie, matter):
    as_alice = browser(alice)
    page = as_alice.get(add_person(as_alice, matter, charlie, ends_on=in_days(20)).url)

    assert "Access given to Charlie Test." in messages_of(page)
    row = _row(page, MatterUserGrant.objects.get(user=charlie))
    assert "added by Alice Test" in row
    assert f"end of {in_days(20)}" in row  # access lasts to the end of the 20th day


def test_the_partner_changes_a_level_without_adding_a_second_grant(alice, bob, matter):
    add_person(browser(alice), matter, bob, GrantLevel.EDIT, reason="Drafts the disclosure letter")

    (held,) = MatterUserGrant.objects.filter(user=bob, content_object=matter)
    assert held.level == GrantLevel.EDIT
    assert browser(bob).get(reverse("matters:document_upload", kwargs={"pk": matter.pk})).status_code == 200


def test_a_team_added_reaches_its_members(alice, charlie, matter, team):
    team.user_set.add(charlie)

    response = add_group(browser(alice), matter, team)

    assert response.status_code == 302
    assert browser(charlie).get(matter.get_absolute_url()).status_code == 200
    assert Notification.objects.filter(recipient=charlie, kind=NotificationKind.GRANT_ADDED).exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"reason": "  "}, "reason", "This field is required."),
        ({"ends_on": "2001-01-01"}, "ends_on", "The end date is in the past."),
    ],
)
def test_bad_input_is_named_and_nothing_is_written(alice, charlie, matter, change, field, message):
    response = add_person(browser(alice), matter, charlie, **change)

    assert response.status_code == 200
    assert message in response.context["person_form"].errors[field]
    assertContains(response, message)
    assert not MatterUserGrant.objects.filter(user=charlie).exists()


def test_the_partner_cannot_pick_herself_nor_someone_who_has_left(alice, charlie, matter):
    charlie.is_active = False
    charlie.save()
    form = browser(alice).get(team_url(matter)).context["person_form"]
    offered = set(form.fields["user"].queryset)

    assert alice not in offered and charlie not in offered
    assert "Select a valid choice" in str(add_person(browser(alice), matter, alice).context["person_form"].errors)


# --- highly confidential: two people ---------------------------------------------------------------------


def test_adding_to_a_highly_confidential_matter_waits_for_the_security_officer(
    alice, charlie, dana, highly_confidential
):
    matter = highly_confidential
    as_alice, as_charlie = browser(alice), browser(charlie)

    response = add_person(as_alice, matter, charlie, ends_on=in_days(10))

    page = as_alice.get(response.url)
    assert "Charlie Test will have access once the security officer approves." in messages_of(page)
    filed = AccessRequest.objects.get(requester=charlie, matter=matter)
    assert (filed.status, filed.filed_by, filed.ends_on.isoformat()) == (RequestStatus.PENDING, alice, in_days(10))
    assert [(a.approver, a.capacity) for a in filed.approvals.all()] == [(alice, ApprovalCapacity.PARTNER)]
    pending = page.content.decode().split('id="pending"')[1].split("</section>")[0]
    assert "Charlie Test" in pending and "Alice Test (Responsible partner)" in pending
    assert as_charlie.get(matter.get_absolute_url()).status_code == 404
    assert not MatterUserGrant.objects.filter(user=charlie).exists()

    approve_access_request(actor=dana, access_request=filed)

    assert as_charlie.get(matter.get_absolute_url()).status_code == 200
    row = _row(as_alice.get(team_url(matter)), MatterUserGrant.objects.get(user=charlie))
    assert "Alice Test (Responsible partner)" in row and "Dana Test (Security officer)" in row


def test_a_highly_confidential_matter_needs_an_end_date(alice, charlie, highly_confidential):
    response = add_person(browser(alice), highly_confidential, charlie)

    assert response.status_code == 200
    assertContains(response, "Access to a highly confidential matter needs an end date.")
    assert not AccessRequest.objects.exists()
    assert not MatterUserGrant.objects.filter(user=charlie).exists()


@pytest.mark.parametrize("ends_on", ["9999-12-31", "2099-01-01"])
def test_an_end_date_past_the_classifications_limit_is_named_not_a_crash(alice, charlie, matter, ends_on):
    response = add_person(browser(alice), matter, charlie, ends_on=ends_on)

    assert response.status_code == 200
    assertContains(response, "Access may be given for at most 90 days on this matter.")
    assert not MatterUserGrant.objects.filter(user=charlie).exists()


def test_a_team_is_not_added_to_a_highly_confidential_matter(alice, charlie, highly_confidential, team):
    team.user_set.add(charlie)

    response = add_group(browser(alice), highly_confidential, team, ends_on=in_days(10))

    assert response.status_code == 200
    assert response.context["group_form"].errors["group"] == [
        "On a highly confidential matter, access is given to people one by one."
    ]
    assert not MatterGroupGrant.objects.exists()
    assert browser(charlie).get(highly_confidential.get_absolute_url()).status_code == 404


# --- revoking ------------------------------------------------------------------------------------------


def test_revoking_takes_access_away_on_the_holders_next_request(alice, bob, matter):
    as_bob = browser(bob)
    assert as_bob.get(matter.get_absolute_url()).status_code == 200
    held = MatterUserGrant.objects.get(user=bob, content_object=matter)

    response = browser(alice).post(revoke_url(held), {"reason": "Left the deal team"})

    assertRedirects(response, team_url(matter), fetch_redirect_response=False)
    assert as_bob.get(matter.get_absolute_url()).status_code == 404
    note = Notification.objects.get(recipient=bob, kind=NotificationKind.GRANT_REVOKED)
    assert note.params == {"number": matter.number, "reason": "Left the deal team"}
    event = AuditEvent.objects.get(action=AuditAction.GRANT_REVOKE, matter_id=matter.pk)
    assert event.actor_id == alice.pk
    assert "Left the deal team" not in bytes(event.payload).decode()


def test_revoking_says_so(alice, bob, matter):
    as_alice = browser(alice)
    held = MatterUserGrant.objects.get(user=bob, content_object=matter)

    page = as_alice.post(revoke_url(held), {"reason": "Left the deal team"}, follow=True)

    assert "Access of Bob Test revoked." in messages_of(page)
    assertNotContains(page, f'id="person-grant-{held.pk}"')


def test_revoking_a_team_takes_access_from_its_members(alice, charlie, matter, team):
    team.user_set.add(charlie)
    team_grant = grant(team, matter, GrantLevel.VIEW)

    page = browser(alice).post(revoke_url(team_grant), {"reason": "Deal closed"}, follow=True)

    assert "Access of Bluefin deal team revoked." in messages_of(page)
    assert browser(charlie).get(matter.get_absolute_url()).status_code == 404
    assert Notification.objects.filter(recipient=charlie, kind=NotificationKind.GRANT_REVOKED).exists()


def test_a_revocation_without_reason_is_refused_and_nothing_changes(alice, bob, matter):
    held = MatterUserGrant.objects.get(user=bob, content_object=matter)

    page = browser(alice).post(revoke_url(held), {"reason": "   "}, follow=True)

    assert "Say why access is revoked: the holder is told." in messages_of(page)
    assert MatterUserGrant.objects.filter(pk=held.pk).exists()
    assert browser(bob).get(matter.get_absolute_url()).status_code == 200
    assert not AuditEvent.objects.filter(action=AuditAction.GRANT_REVOKE).exists()


def test_the_partner_cannot_revoke_her_own_access_here(alice, matter):
    own = MatterUserGrant.objects.get(user=alice, content_object=matter)
    as_alice = browser(alice)
    assertNotContains(as_alice.get(team_url(matter)), revoke_url(own))

    page = as_alice.post(revoke_url(own), {"reason": "stepping back"}, follow=True)

    assert "You cannot revoke your own access here. Ask an administrator." in messages_of(page)
    assert MatterUserGrant.objects.filter(pk=own.pk).exists()


def test_a_grant_of_another_matter_is_not_found_here_even_for_its_manager(alice, charlie, matter):
    other = MatterFactory(responsible_partner=alice)
    grant(alice, other, GrantLevel.MANAGE)
    elsewhere = grant(charlie, other, GrantLevel.VIEW)
    url = reverse("access:team_revoke_user", kwargs={"pk": matter.pk, "grant_id": elsewhere.pk})

    assert browser(alice).post(url, {"reason": "wrong matter"}).status_code == 404
    assert MatterUserGrant.objects.filter(pk=elsewhere.pk).exists()


def test_revoking_answers_405_to_a_get_only_after_permission(alice, bob, matter):
    held = MatterUserGrant.objects.get(user=bob, content_object=matter)

    assert browser(alice).get(revoke_url(held)).status_code == 405
    assert browser(bob).get(revoke_url(held)).status_code == 404
    assert MatterUserGrant.objects.filter(pk=held.pk).exists()


def test_the_team_page_costs_the_same_few_queries_for_a_bigger_team(alice, matter, team, django_assert_max_num_queries):
    as_alice = browser(alice)
    for _ in range(15):
        person = UserFactory()
        enroll(person)
        grant(person, matter, GrantLevel.VIEW)
    for _ in range(5):
        grant(Group.objects.create(name=f"Team {_}"), matter, GrantLevel.VIEW)

    with django_assert_max_num_queries(20):
        assert as_alice.get(team_url(matter)).status_code == 200


def _row(response, grant_row) -> str:
    kind = "person" if isinstance(grant_row, MatterUserGrant) else "group"
    return response.content.decode().split(f'id="{kind}-grant-{grant_row.pk}"')[1].split("</tr>")[0]
