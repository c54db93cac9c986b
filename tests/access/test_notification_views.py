"""The notifications page: what each kind says, the reasons shown only here, the
departure list a manager reads, unread marking, and the navigation's unread badge."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from access.access_requests import approve_access_request, deny_access_request, request_access
from access.models import EmploymentStatus, GrantLevel, MatterUserGrant, Notification, NotificationKind
from access.notifications import notify
from access.services import end_access_of_departed_users, revoke_team_grant
from matters.models import Classification
from tests.access.test_sign_in import T0, sign_in
from tests.conftest import signed_in
from tests.factories import MatterFactory, grant

TODAY = date(2026, 3, 2)  # T0 in Asia/Shanghai
NOTIFICATIONS = reverse("access:notifications")
READ_ALL = reverse("access:notifications_read")
DENIAL = "The Acme board objected to outside counsel on this deal"
REVOCATION = "Acme asked us to shrink the team"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def entries(response) -> list[str]:
    """Each notification's element, in page order (the last runs to the end of the page's main part)."""
    html = page(response)
    if 'id="notifications"' not in html:
        return []
    listing = html.split('id="notifications"', 1)[1].split("</main>", 1)[0]
    return listing.split('<li id="notification-')[1:]


def page(response) -> str:
    return response.content.decode()


def unread_ids(response) -> list[str]:
    return re.findall(r'<li id="notification-(\d+)" class="notification [a-z_]+ unread"', page(response))


def unread_badge(response) -> str | None:
    found = re.search(r'id="nav-count-notifications"[^>]*>(\d+)<', page(response))
    return found.group(1) if found else None


def ask(user, number) -> object:
    return request_access(
        actor=user, number=number, level=GrantLevel.VIEW, reason="Cover", ends_on=TODAY + timedelta(days=10)
    )


def test_a_denial_is_shown_with_its_reason(client, alice, charlie, matter):
    deny_access_request(actor=alice, access_request=ask(charlie, matter.number), reason=DENIAL)

    response = signed_in(client, charlie).get(NOTIFICATIONS)

    [entry] = entries(response)
    assert f"Your request for access to matter {matter.number} was denied." in entry
    assert f"Reason: {DENIAL}" in entry
    assert reverse("access:my_requests") in entry


def test_a_revocation_is_shown_with_its_reason_and_mail_leaves_it_out(
    client, alice, bob, matter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        revoke_team_grant(actor=alice, grant=MatterUserGrant.objects.get(user=bob), reason=REVOCATION)

    response = signed_in(client, bob).get(NOTIFICATIONS)

    [entry] = entries(response)
    assert f"Your access to matter {matter.number} was revoked." in entry
    assert f"Reason: {REVOCATION}" in entry
    [sent] = mail.outbox
    assert sent.to == [bob.email]
    assert matter.number in sent.body
    assert REVOCATION not in sent.body
    assert "Acme" not in sent.subject + sent.body


def test_an_approval_links_to_the_matter_and_a_reason_is_shown_only_for_denials_and_revocations(
    client, alice, charlie, matter
):
    approve_access_request(actor=alice, access_request=ask(charlie, matter.number), note="Approved for Acme")

    response = signed_in(client, charlie).get(NOTIFICATIONS)

    [entry] = entries(response)
    assert f"Your request for view access to matter {matter.number} was approved, until" in entry
    assert f'href="{matter.get_absolute_url()}"' in entry
    assert "Reason:" not in entry
    assertNotContains(response, "Approved for Acme")


def test_the_manager_reads_what_a_departure_revoked(client, alice, bob, matter, clock):
    team = Group.objects.create(name="Project Falcon team")
    bob.groups.add(team)
    edited = MatterFactory(number="2026-D-00002")  # confidential, and not Alice's
    grant(bob, edited, GrantLevel.EDIT)
    internal = MatterFactory(number="2026-D-00001", classification=Classification.INTERNAL)
    grant(bob, internal, GrantLevel.DOWNLOAD)
    sign_in(Client(), bob)  # a session of Bob's, ended with the rest
    bob.manager = alice
    bob.employment_status = EmploymentStatus.DEPARTING
    bob.departure_date = TODAY
    bob.save()

    end_access_of_departed_users()

    response = signed_in(client, alice).get(NOTIFICATIONS)
    [entry] = entries(response)
    assert "Bob Test has left the firm: 3 grants were revoked and their sessions ended." in entry
    granted = re.findall(r"<li>([^<]+)</li>", entry.split('class="departure-grants"')[1])
    # Alice may learn of an internal matter and sees her own; a confidential matter she does
    # not see is counted, never named (its number is not confirmed to her).
    assert granted == [f"{internal.number} · Download", f"{matter.number} · View"]
    assert "1 grant on a confidential matter you do not see, not named here." in entry
    assert edited.number not in response.content.decode()
    assert "Removed from teams: Project Falcon team" in entry
    assert "1 session ended." in entry


def test_new_notifications_are_marked_unread_once_then_read(client, charlie, alice, matter, clock):
    older = notify([charlie], NotificationKind.REQUEST_LAPSED, {"number": "2026-L-00001"})
    clock.shift(60)
    notify([charlie], NotificationKind.REQUEST_LAPSED, {"number": "2026-L-00002"})
    notify([alice], NotificationKind.REQUEST_LAPSED, {"number": "2026-L-09999"})  # not Charlie's
    assert older == 1
    signed_in(client, charlie)

    first = client.get(NOTIFICATIONS)

    shown = entries(first)
    assert [("2026-L-00002" in e, "2026-L-00001" in e) for e in shown] == [(True, False), (False, True)]
    assert len(unread_ids(first)) == 2
    assertNotContains(first, "2026-L-09999")
    assert unread_badge(first) == "2"  # counted as the page was drawn

    second = client.get(NOTIFICATIONS)
    assert unread_ids(second) == []
    assert unread_badge(second) is None
    assert Notification.objects.filter(recipient=alice, read_at__isnull=True).count() == 1


def test_only_the_shown_page_is_marked_read(client, charlie, clock):
    for n in range(30):
        notify([charlie], NotificationKind.REQUEST_LAPSED, {"number": f"2026-P-{n:05d}"})
        clock.shift(1)
    signed_in(client, charlie)

    first = client.get(NOTIFICATIONS)

    assert len(entries(first)) == 25
    assert "2026-P-00029" in entries(first)[0]
    assert Notification.objects.filter(recipient=charlie, read_at__isnull=True).count() == 5
    assert unread_badge(client.get(reverse("access:my_requests"))) == "5"
    second_page = client.get(NOTIFICATIONS, {"page": 2})
    assert len(entries(second_page)) == 5
    assert len(unread_ids(second_page)) == 5
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_mark_all_as_read(client, charlie, alice):
    for n in range(3):
        notify([charlie], NotificationKind.REQUEST_LAPSED, {"number": f"2026-R-{n:05d}"})
    notify([alice], NotificationKind.REQUEST_LAPSED, {"number": "2026-R-09999"})
    signed_in(client, charlie)
    assert unread_badge(client.get(reverse("access:my_requests"))) == "3"

    assert client.get(READ_ALL).status_code == 405
    assert Notification.objects.filter(recipient=charlie, read_at__isnull=True).count() == 3
    response = client.post(READ_ALL)

    assertRedirects(response, NOTIFICATIONS, fetch_redirect_response=False)
    assert not Notification.objects.filter(recipient=charlie, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=alice, read_at__isnull=True).count() == 1
    assert unread_badge(client.get(reverse("access:my_requests"))) is None


def test_an_empty_list_says_so(client, dana):
    response = signed_in(client, dana).get(NOTIFICATIONS)

    assertContains(response, "No notifications.")
    assertNotContains(response, READ_ALL)
