"""The access request screens, through the browser's eyes: asking, one's requests and
grants, the approval queue, deciding, and the navigation's badges.

Time stands still at T0 (Monday 2 March 2026, 09:00 in the firm's time zone), so end
dates, "today" and every timestamp on a page are exact.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from access.access_requests import approve_access_request, deny_access_request, request_access
from access.models import AccessApproval, AccessRequest, GrantLevel, MatterUserGrant, Notification, RequestStatus, Role
from audit.actions import AuditAction
from audit.models import AuditEvent
from matters.models import Classification
from tests.access.test_sign_in import T0
from tests.conftest import signed_in
from tests.factories import MatterFactory, UserFactory, enroll, grant

TODAY = date(2026, 3, 2)  # T0 in Asia/Shanghai
NEW = reverse("access:request_new")
MINE = reverse("access:my_requests")
MY_ACCESS = reverse("access:my_access")
QUEUE = reverse("access:approvals")
NOTIFICATIONS = reverse("access:notifications")
NO_SUCH_NUMBER = "2026-X-99999"
REASON = "Covering the Acme Holdings merger closing while Bob is away"
DENIAL = "The Acme board objected to outside counsel on this deal"
NOTE = "Approved for the Acme closing only"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def hc_matter(alice):
    """A HIGHLY CONFIDENTIAL matter Alice runs."""
    matter = MatterFactory(responsible_partner=alice, classification=Classification.HIGHLY_CONFIDENTIAL)
    grant(alice, matter, GrantLevel.MANAGE)
    return matter


@pytest.fixture
def internal_matter(alice):
    """An INTERNAL matter of Alice's: anyone may learn it exists and ask for it."""
    return MatterFactory(
        responsible_partner=alice, classification=Classification.INTERNAL, title="Office lease renewal"
    )


def person(username: str, first: str, *roles: Role):
    user = UserFactory(username=username, first_name=first, last_name="Test", roles=roles)
    enroll(user)
    return user


def as_user(client, user):
    return signed_in(client, user)


def form_data(number, *, days=30, level=GrantLevel.VIEW, reason=REASON, ends_on=None) -> dict:
    ends_on = ends_on or TODAY + timedelta(days=days)
    return {"number": number, "level": level.value, "ends_on": ends_on.isoformat(), "reason": reason}


def ask(user, number, *, days=30, level=GrantLevel.VIEW) -> AccessRequest:
    return request_access(actor=user, number=number, level=level, reason=REASON, ends_on=TODAY + timedelta(days=days))


def decide(client, access_request, verb: str, **data):
    return client.post(reverse(f"access:request_{verb}", args=[access_request.pk]), data)


def field_errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def row_ids(response) -> set[str]:
    return set(re.findall(r'<tr id="request-([0-9a-f-]{36})"', response.content.decode()))


def nothing_was_asked() -> None:
    assert not AccessRequest.objects.exists()
    assert not Notification.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.ACCESS_REQUEST).exists()


# --- asking ----------------------------------------------------------------------------------


def test_a_request_is_sent_and_listed_with_one_message(client, charlie, alice, adam, matter):
    as_user(client, charlie)
    response = client.post(NEW, form_data(matter.number, level=GrantLevel.DOWNLOAD, days=20))

    assertRedirects(response, MINE, fetch_redirect_response=False)
    access_request = AccessRequest.objects.get()
    assert (access_request.requester, access_request.matter, access_request.level) == (
        charlie,
        matter,
        GrantLevel.DOWNLOAD,
    )
    assert access_request.ends_on == date(2026, 3, 22)
    assert access_request.reason == REASON
    listing = client.get(MINE)
    assert page_messages(listing) == [
        f"Your request for matter {matter.number} has been sent. You will be notified when it is decided."
    ]
    row = listing.content.decode().split(f'id="request-{access_request.pk}"')[1].split("</tr>")[0]
    for shown in (matter.number, "Download", "2026-03-22", "Pending", "Withdraw"):
        assert shown in row
    # Nothing about the matter itself: not its title, client or classification.
    for hidden in (str(matter.title), str(matter.client.name), matter.client.code, "Confidential"):
        assertNotContains(listing, hidden)


def test_the_form_is_prefilled_from_the_link_and_ends_after_the_default_days(client, charlie):
    response = as_user(client, charlie).get(NEW, {"number": "2026-A-00042"})

    assert response.status_code == 200
    assertContains(response, 'value="2026-A-00042"')
    assertContains(response, 'value="2026-04-01"')  # 30 days from today
    assertContains(response, 'type="date"')
    assertContains(response, "30 days from today")


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"ends_on": (TODAY - timedelta(days=1)).isoformat()}, "ends_on", "The end date is in the past."),
        ({"reason": "   "}, "reason", "Say why you need access: the approvers decide on it."),
        ({"number": ""}, "number", "Enter the matter number."),
        ({"ends_on": "next spring"}, "ends_on", "Enter a valid date."),
        ({"level": "manage_matter"}, "level", "Select a valid choice."),
        ({"reason": "x" * 501}, "reason", "Ensure this value has at most 500 characters"),
    ],
    ids=["past-end-date", "empty-reason", "missing-number", "not-a-date", "manage-level", "reason-too-long"],
)
def test_bad_input_is_named_on_the_form_and_nothing_is_written(client, charlie, matter, data, field, error):
    response = as_user(client, charlie).post(NEW, {**form_data(matter.number), **data})

    assert response.status_code == 200
    assert any(message.startswith(error) for message in field_errors(response, field)), response.context["form"].errors
    assertContains(response, 'class="field has-error"')
    nothing_was_asked()


def test_a_visible_internal_matter_allows_its_classifications_maximum(client, charlie, internal_matter):
    as_user(client, charlie)

    refused = client.post(NEW, form_data(internal_matter.number, days=181))
    assert field_errors(refused, "ends_on") == ["Access may be requested for at most 180 days, until 2026-08-29."]
    nothing_was_asked()

    assertRedirects(client.post(NEW, form_data(internal_matter.number, days=180)), MINE)
    assert AccessRequest.objects.get().ends_on == date(2026, 8, 29)


def test_a_matter_asked_for_by_number_allows_only_the_strictest_maximum(client, charlie, matter):
    as_user(client, charlie)

    refused = client.post(NEW, form_data(matter.number, days=31))  # CONFIDENTIAL would allow 90
    assert field_errors(refused, "ends_on") == ["Access may be requested for at most 30 days, until 2026-04-01."]
    nothing_was_asked()

    assertRedirects(client.post(NEW, form_data(matter.number, days=30)), MINE)


def test_a_second_pending_request_for_the_same_number_is_refused(client, charlie, matter):
    as_user(client, charlie)
    assertRedirects(client.post(NEW, form_data(matter.number)), MINE)

    again = client.post(NEW, form_data(f"  {matter.number} ", level=GrantLevel.EDIT))

    assert again.status_code == 200
    assert field_errors(again, "number") == [
        "You already have a pending request for this matter number. Wait for its decision or withdraw it."
    ]
    assert AccessRequest.objects.count() == 1


def test_asking_for_access_already_held_is_refused(client, bob, matter):
    response = as_user(client, bob).post(NEW, form_data(matter.number))

    assert field_errors(response, "number") == ["You already hold this access to this matter, for at least as long."]
    assert not AccessRequest.objects.exists()


def test_the_open_matters_list_shows_public_and_internal_ones_never_confidential(client, charlie, matter, hc_matter):
    internal = MatterFactory(classification=Classification.INTERNAL, title="Office lease renewal")
    public = MatterFactory(classification=Classification.PUBLIC, title="Published guidance note")
    already_held = MatterFactory(classification=Classification.INTERNAL, title="Held already")
    grant(charlie, already_held)

    response = as_user(client, charlie).get(NEW)

    listed = [m.number for m in response.context["page"].object_list]
    assert sorted(listed) == sorted([internal.number, public.number])
    assertContains(response, "Office lease renewal")  # titles are opened for the list
    assertContains(response, f"{NEW}?number={internal.number}#request-form")
    assertContains(response, "Confidential and highly confidential matters are never listed here")
    for hidden in (matter.number, hc_matter.number, already_held.number):
        assertNotContains(response, hidden)


def test_a_vendor_asks_by_number_only(client, internal_matter):
    vendor = person("val", "Val", Role.VENDOR)

    response = as_user(client, vendor).get(NEW)

    assert response.status_code == 200
    assert "page" not in response.context
    assertNotContains(response, internal_matter.number)
    assertContains(response, "ask for them by number")


# --- the same answer for a number nobody may learn about --------------------------------------

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalized(response, number: str) -> str:
    """The page as the requester sees it, less what differs by request: the number typed, CSRF tokens, ids."""
    html = response.content.decode()
    assert number in html
    return UUID.sub("<id>", CSRF.sub("<csrf>", html.replace(number, "<number>")))


@pytest.fixture
def twins(db):
    """Two lawyers who look the same on every page (same name, same roles, no grants)."""
    return person("erin", "Erin", Role.LAWYER), person("erin2", "Erin", Role.LAWYER)


@pytest.mark.parametrize("classification", [Classification.CONFIDENTIAL, Classification.HIGHLY_CONFIDENTIAL])
def test_an_unknown_number_and_a_hidden_matter_get_the_same_answers(client, twins, alice, classification):
    hidden = MatterFactory(responsible_partner=alice, classification=classification)
    first, second = twins
    answers = {}
    for user, number in ((first, hidden.number), (second, NO_SUCH_NUMBER)):
        as_user(client, user)
        steps = {}
        # The same bad input is refused in the same words (60 days is over the 30 allowed).
        steps["too long"] = client.post(NEW, form_data(number, days=60))
        steps["past"] = client.post(NEW, form_data(number, ends_on=TODAY - timedelta(days=1)))
        sent = client.post(NEW, form_data(number, days=30))
        steps["sent"] = client.get(sent["Location"])  # the list, with the confirmation
        steps["again"] = client.post(NEW, form_data(number, days=10))  # a duplicate
        answers[user] = (
            sent.status_code,
            sent["Location"],
            {k: (r.status_code, normalized(r, number)) for k, r in steps.items()},
        )
        client.logout()

    assert answers[first] == answers[second]
    status, location, steps = answers[first]
    assert (status, location) == (302, MINE)
    assert "at most 30 days" in steps["too long"][1]
    assert "Your request for matter <number> has been sent." in steps["sent"][1]
    assert AccessRequest.objects.filter(matter=hidden).count() == 1
    assert AccessRequest.objects.filter(matter=None, matter_number=NO_SUCH_NUMBER).count() == 1


# --- one's requests --------------------------------------------------------------------------


def test_my_requests_lists_mine_newest_first_and_what_each_state_offers(client, charlie, alice, bob, matter, clock):
    other = MatterFactory(responsible_partner=alice, classification=Classification.INTERNAL)
    denied = ask(charlie, matter.number)
    clock.shift(60)
    approved = ask(charlie, other.number)
    clock.shift(60)
    pending = ask(charlie, NO_SUCH_NUMBER)
    ask(bob, other.number)  # someone else's
    as_user(client, alice)
    assertRedirects(decide(client, denied, "deny", reason=DENIAL), QUEUE, fetch_redirect_response=False)
    assertRedirects(decide(client, approved, "approve"), QUEUE, fetch_redirect_response=False)

    response = as_user(client, charlie).get(MINE)

    assert [item.pk for item in response.context["page"].object_list] == [pending.pk, approved.pk, denied.pk]
    html = response.content.decode()
    rows = {pk: html.split(f'id="request-{pk}"')[1].split("</tr>")[0] for pk in (denied.pk, approved.pk, pending.pk)}
    assert f"Reason: {DENIAL}" in rows[denied.pk]
    assert "Denied" in rows[denied.pk]
    assert other.get_absolute_url() in rows[approved.pk]
    assert "Withdraw" in rows[pending.pk]
    assert "Withdraw" not in rows[denied.pk] + rows[approved.pk]


def test_a_request_filed_for_someone_is_listed_for_the_filer_too(client, alice, charlie, dana, hc_matter):
    filed = request_access(
        actor=alice,
        requester=charlie,
        number=hc_matter.number,
        level=GrantLevel.VIEW,
        reason=REASON,
        ends_on=TODAY + timedelta(days=10),
    )

    response = as_user(client, alice).get(MINE)

    assert [item.pk for item in response.context["page"].object_list] == [filed.pk]
    assertContains(response, "for Charlie Test")


def test_the_requester_withdraws_a_pending_request(client, charlie, matter):
    pending = ask(charlie, matter.number)
    as_user(client, charlie)

    assert client.get(reverse("access:request_withdraw", args=[pending.pk])).status_code == 405
    response = client.post(reverse("access:request_withdraw", args=[pending.pk]), follow=True)

    assertRedirects(response, MINE)
    assert page_messages(response) == [f"Your request for matter {matter.number} was withdrawn."]
    pending.refresh_from_db()
    assert pending.status == RequestStatus.WITHDRAWN
    assert AuditEvent.objects.filter(action=AuditAction.ACCESS_WITHDRAW).count() == 1

    again = client.post(reverse("access:request_withdraw", args=[pending.pk]), follow=True)
    assert page_messages(again) == ["This request has already been decided."]


@pytest.mark.parametrize("method", ["get", "post"])
def test_nobody_else_may_withdraw_a_request(client, charlie, bob, alice, matter, method):
    pending = ask(charlie, matter.number)
    url = reverse("access:request_withdraw", args=[pending.pk])

    for someone in (bob, alice):
        assert getattr(as_user(client, someone), method)(url).status_code == 404
    pending.refresh_from_db()
    assert pending.status == RequestStatus.PENDING


# --- one's grants ----------------------------------------------------------------------------


def test_my_access_lists_grants_their_ends_and_offers_renewal_when_one_ends_soon(client, charlie, alice, clock):
    ending = MatterFactory(title="Ending soon matter")
    lasting = MatterFactory(title="Lasting matter")
    open_ended = MatterFactory(title="Open ended matter")
    via_team = MatterFactory(title="Team matter")
    grants = {
        ending: grant(charlie, ending, GrantLevel.DOWNLOAD, expires_at=T0 + timedelta(days=6)),
        lasting: grant(charlie, lasting, expires_at=T0 + timedelta(days=20)),
        open_ended: grant(charlie, open_ended),
    }
    team = Group.objects.create(name="Deal team")
    team.user_set.add(charlie)
    team_grant = grant(team, via_team, GrantLevel.EDIT)
    expired = MatterFactory(title="Expired matter")
    grant(charlie, expired, expires_at=T0 + timedelta(seconds=1))
    clock.shift(2)  # that one has just ended

    response = as_user(client, charlie).get(MY_ACCESS)

    html = response.content.decode()
    rows = {m: html.split(f'id="grant-{g.pk}"')[1].split("</tr>")[0] for m, g in grants.items()}
    rows[via_team] = html.split(f'id="team-grant-{team_grant.pk}"')[1].split("</tr>")[0]
    assert "Ends soon" in rows[ending]
    assert f"{NEW}?number={ending.number}" in rows[ending]
    assert "Download" in rows[ending]
    assert "Ends soon" not in rows[lasting]
    assert "Request a renewal" not in rows[lasting]
    assert "no end date" in rows[open_ended]
    assert "Deal team" in rows[via_team]
    assert "Edit" in rows[via_team]
    assertContains(response, "Ending soon matter")
    assertNotContains(response, expired.number)
    assertContains(response, MINE)


def test_a_requested_grant_is_shown_to_the_end_of_its_day(client, charlie, alice, matter):
    approve_access_request(actor=alice, access_request=ask(charlie, matter.number, days=20))

    response = as_user(client, charlie).get(MY_ACCESS)

    assertContains(response, "end of 2026-03-22")


# --- the queue -------------------------------------------------------------------------------


@pytest.fixture
def queue(alice, bob, charlie, dana, adam, matter, hc_matter):
    """Pending requests of every kind; each person's own request among them."""
    pat = person("pat", "Pat", Role.PARTNER, Role.LAWYER)
    pats = MatterFactory(responsible_partner=pat, classification=Classification.CONFIDENTIAL)
    pats_hc = MatterFactory(responsible_partner=pat, classification=Classification.HIGHLY_CONFIDENTIAL)
    return {
        "alice's": ask(charlie, matter.number),
        "alice's hc": ask(charlie, hc_matter.number),
        "pat's": ask(charlie, pats.number),
        "no matter": ask(charlie, NO_SUCH_NUMBER),
        "by alice": ask(alice, pats.number),
        "by adam": ask(adam, matter.number),
        "by dana": ask(dana, pats_hc.number),
        "pat's hc by bob": ask(bob, pats_hc.number),
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("alice", {"alice's", "alice's hc", "by adam"}),
        ("adam", {"alice's", "alice's hc", "pat's", "no matter", "by alice", "by dana", "pat's hc by bob"}),
        ("dana", {"alice's hc", "pat's hc by bob"}),
        ("bob", set()),
        ("charlie", set()),
    ],
)
def test_the_queue_lists_exactly_what_each_person_may_decide(client, queue, who, expected, request):
    response = as_user(client, request.getfixturevalue(who)).get(QUEUE)

    assert response.status_code == 200
    assert row_ids(response) == {str(queue[name].pk) for name in expected}
    if not expected:
        assertContains(response, "Nothing waits for your decision.")


def test_a_queue_row_names_the_matter_by_number_and_client_code_only(client, adam, queue, matter, hc_matter):
    ordinary, nowhere = queue["alice's"], queue["no matter"]
    charlie = ordinary.requester
    charlie.department = "litigation"
    charlie.save()

    response = as_user(client, adam).get(QUEUE)

    html = response.content.decode()
    assert 'id="approvals"' in html
    row = html.split(f'id="request-{ordinary.pk}"')[1].split("</tr>")[0]
    for shown in (matter.number, matter.client.code, "Confidential", "Charlie Test", "Litigation", "View", REASON):
        assert shown in row, shown
    assert "2026-04-01" in row
    assert reverse("access:request_approve", args=[ordinary.pk]) in row
    for secret in (matter, hc_matter):
        assertNotContains(response, str(secret.title))
        assertNotContains(response, str(secret.client.name))
    nobody = html.split(f'id="request-{nowhere.pk}"')[1].split("</tr>")[0]
    assert "No matter has this number" in nobody
    assert "/approve/" not in nobody
    assert "/deny/" in nobody


def test_a_highly_confidential_row_says_what_is_still_missing(client, alice, dana, queue):
    hc = queue["alice's hc"]
    as_user(client, dana)
    row = client.get(QUEUE).content.decode().split(f'id="request-{hc.pk}"')[1].split("</tr>")[0]
    assert "Still needed:</strong> responsible partner, security officer" in row

    approve_access_request(actor=alice, access_request=hc, note=NOTE)

    row = client.get(QUEUE).content.decode().split(f'id="request-{hc.pk}"')[1].split("</tr>")[0]
    assert "Alice Test, as responsible partner, on 2026-03-02 09:00" in row
    assert NOTE in row
    assert "Still needed:</strong> security officer" in row


# --- deciding --------------------------------------------------------------------------------


def test_one_click_approves_and_the_requester_opens_the_matter(client, alice, charlie, matter):
    pending = ask(charlie, matter.number)
    requester = as_user(client.__class__(), charlie)
    assert requester.get(matter.get_absolute_url()).status_code == 404

    response = decide(as_user(client, alice), pending, "approve")

    assertRedirects(response, QUEUE, fetch_redirect_response=False)
    assert page_messages(client.get(QUEUE)) == [
        f"Access granted to Charlie Test on matter {matter.number} until 2026-04-01."
    ]
    assert requester.get(matter.get_absolute_url()).status_code == 200
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == (RequestStatus.APPROVED, alice)


def test_a_denied_request_gives_no_access_and_tells_the_requester_why(client, alice, charlie, matter):
    pending = ask(charlie, matter.number)

    response = decide(as_user(client, alice), pending, "deny", reason=DENIAL)

    assertRedirects(response, QUEUE, fetch_redirect_response=False)
    assert page_messages(client.get(QUEUE)) == ["Request denied; Charlie Test is told why."]
    requester = as_user(client.__class__(), charlie)
    assert requester.get(matter.get_absolute_url()).status_code == 404
    assertContains(requester.get(MINE), f"Reason: {DENIAL}")
    assertContains(requester.get(NOTIFICATIONS), f"Reason: {DENIAL}")
    assert not MatterUserGrant.objects.filter(user=charlie).exists()


def test_a_denial_needs_a_reason(client, alice, charlie, matter):
    pending = ask(charlie, matter.number)
    before = Notification.objects.count()

    response = decide(as_user(client, alice), pending, "deny", reason="  ")

    assertRedirects(response, QUEUE, fetch_redirect_response=False)
    assert page_messages(client.get(QUEUE)) == ["Say why the request is denied: the requester is told."]
    pending.refresh_from_db()
    assert pending.status == RequestStatus.PENDING
    assert Notification.objects.count() == before
    assert not AuditEvent.objects.filter(action=AuditAction.ACCESS_DENY).exists()


def test_a_highly_confidential_matter_needs_the_partner_and_the_security_officer(
    client, alice, dana, charlie, hc_matter
):
    pending = ask(charlie, hc_matter.number)
    requester = as_user(client.__class__(), charlie)
    partner = as_user(client.__class__(), alice)

    decide(partner, pending, "approve")
    assert page_messages(partner.get(QUEUE)) == [
        "Your approval is recorded; the request now waits for the security officer."
    ]
    assert requester.get(hc_matter.get_absolute_url()).status_code == 404

    decide(partner, pending, "approve")  # the same person twice is not two
    assert page_messages(partner.get(QUEUE)) == [
        "You have already approved this request. A second person must approve it."
    ]
    assert AccessApproval.objects.filter(request=pending).count() == 1
    assert requester.get(hc_matter.get_absolute_url()).status_code == 404

    officer = as_user(client, dana)
    decide(officer, pending, "approve")
    assert page_messages(officer.get(QUEUE)) == [
        f"Access granted to Charlie Test on matter {hc_matter.number} until 2026-04-01."
    ]
    assert requester.get(hc_matter.get_absolute_url()).status_code == 200


def test_an_approval_that_is_not_the_one_missing_is_refused_with_the_rule(client, adam, charlie, dana, hc_matter):
    pending = ask(charlie, hc_matter.number)
    approve_access_request(actor=dana, access_request=pending)

    decide(as_user(client, adam), pending, "approve")  # an administrator, while the partner can be asked

    [message] = page_messages(client.get(QUEUE))
    assert message.startswith("A highly confidential matter needs the approval of its responsible partner")
    pending.refresh_from_db()
    assert pending.status == RequestStatus.PENDING


def test_nobody_decides_their_own_request(client, adam, matter):
    own = ask(adam, matter.number)
    as_user(client, adam)

    assert row_ids(client.get(QUEUE)) == set()
    assert decide(client, own, "approve").status_code == 404
    assert decide(client, own, "deny", reason="no").status_code == 404
    own.refresh_from_db()
    assert own.status == RequestStatus.PENDING
    assert not MatterUserGrant.objects.filter(user=adam).exists()


@pytest.mark.parametrize("verb", ["approve", "deny"])
def test_deciding_is_for_the_deciders_only_then_only_by_post(client, alice, bob, charlie, dana, matter, verb):
    pending = ask(charlie, matter.number)
    url = reverse(f"access:request_{verb}", args=[pending.pk])

    for outsider in (bob, charlie, dana):  # a colleague, the requester, an officer below HC
        as_user(client, outsider)
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": DENIAL}).status_code == 404
    assert as_user(client, alice).get(url).status_code == 405
    pending.refresh_from_db()
    assert pending.status == RequestStatus.PENDING


def test_a_decided_request_cannot_be_decided_again(client, alice, adam, charlie, matter):
    pending = ask(charlie, matter.number)
    decide(as_user(client, alice), pending, "deny", reason=DENIAL)
    client.get(QUEUE)  # Alice reads her confirmation

    decide(as_user(client, adam), pending, "approve")

    assert page_messages(client.get(QUEUE)) == ["This request has already been decided."]
    assert not MatterUserGrant.objects.filter(user=charlie).exists()


def test_a_number_of_no_matter_can_only_be_denied(client, adam, charlie):
    nowhere = ask(charlie, NO_SUCH_NUMBER)
    as_user(client, adam)

    decide(client, nowhere, "approve")
    assert page_messages(client.get(QUEUE)) == ["No matter has this number: the request can only be denied."]

    decide(client, nowhere, "deny", reason="There is no such matter")
    nowhere.refresh_from_db()
    assert nowhere.status == RequestStatus.DENIED


def test_email_never_carries_the_reasons_people_typed(
    client, alice, dana, charlie, matter, hc_matter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        as_user(client, charlie).post(NEW, form_data(matter.number))
        as_user(client, charlie).post(NEW, form_data(hc_matter.number))
    with django_capture_on_commit_callbacks(execute=True):
        decide(as_user(client, alice), AccessRequest.objects.get(matter=matter), "deny", reason=DENIAL)
        decide(client, AccessRequest.objects.get(matter=hc_matter), "approve", note=NOTE)
        decide(as_user(client, dana), AccessRequest.objects.get(matter=hc_matter), "approve", note=NOTE)

    assert {address for message in mail.outbox for address in message.to} >= {
        alice.email,
        dana.email,
        charlie.email,
    }
    for message in mail.outbox:
        text = f"{message.subject}\n{message.body}"
        for typed in (REASON, DENIAL, NOTE, "Acme"):
            assert typed not in text
        for secret in (matter, hc_matter):
            assert str(secret.title) not in text
            assert str(secret.client.name) not in text


# --- navigation ------------------------------------------------------------------------------


def badge(response, key: str) -> str | None:
    found = re.search(rf'id="nav-count-{key}"[^>]*>(\d+)<', response.content.decode())
    return found.group(1) if found else None


def nav_labels(response) -> list[str]:
    return [str(item["label"]) for item in response.context["nav_items"]]


def test_the_approvals_badge_counts_what_the_person_may_decide(client, alice, adam, dana, bob, queue):
    assert badge(as_user(client, alice).get(MINE), "approvals") == "3"
    assert badge(as_user(client, adam).get(MINE), "approvals") == "7"
    assert badge(as_user(client, dana).get(MINE), "approvals") == "2"

    decide(as_user(client, alice), queue["alice's"], "approve")

    assert badge(client.get(MINE), "approvals") == "2"
    lawyer = as_user(client, bob).get(MINE)
    assert "Approvals" not in nav_labels(lawyer)


def test_the_navigation_offers_each_person_their_items(client, alice, bob, dana, adam):
    hr = person("harriet", "Harriet", Role.HR)
    expected = {
        bob: ["Matters", "Access requests", "My training", "Notifications", "Account security"],
        alice: [
            "Matters",
            "Access requests",
            "Approvals",
            "Access reviews",
            "My training",
            "Notifications",
            "Account security",
        ],
        dana: [
            "Approvals",
            "Access overview",
            "Ethical walls",
            "Access reviews",
            "My training",
            "Training programme",
            "Audit",
            "Client keys",
            "Notifications",
            "Account security",
        ],
        adam: [
            "Approvals",
            "Access overview",
            "My training",
            "Client keys",
            "Administration",
            "Notifications",
            "Account security",
        ],
        hr: ["My training", "Training programme", "Notifications", "Account security"],
    }
    for someone, labels in expected.items():
        assert nav_labels(as_user(client, someone).get(NOTIFICATIONS)) == labels, someone


@pytest.mark.parametrize(
    ("url", "current"),
    [(NEW, "Access requests"), (MY_ACCESS, "Access requests"), (QUEUE, "Approvals"), (NOTIFICATIONS, "Notifications")],
)
def test_the_current_item_is_highlighted(client, alice, url, current):
    response = as_user(client, alice).get(url)

    assert [str(item["label"]) for item in response.context["nav_items"] if item["current"]] == [current]
    assertContains(response, 'aria-current="page">' + current)


def test_the_navigation_costs_one_query_for_both_counts(client, alice, adam, charlie, queue, matter):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    as_user(client, alice).get(MINE)
    with CaptureQueriesContext(connection) as captured:
        client.get(MINE)
    counting = [q["sql"] for q in captured.captured_queries if "access_notification" in q["sql"]]
    assert len(counting) == 1
    assert "access_accessrequest" in counting[0]


# --- query counts ----------------------------------------------------------------------------


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up: session bookkeeping on a first request is not the page's cost
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_queue_costs_the_same_queries_for_two_requests_or_twelve(client, alice, dana, hc_matter, clock):
    def more(count: int) -> None:
        for _ in range(count):
            requester = UserFactory(roles=(Role.LAWYER,))
            approve_access_request(actor=dana, access_request=ask(requester, hc_matter.number))
            clock.shift(1)

    more(2)
    as_user(client, alice)
    few = _queries(client, QUEUE)
    more(10)
    assert len(row_ids(client.get(QUEUE))) == 12
    assert _queries(client, QUEUE) == few


def test_my_pages_cost_the_same_queries_for_few_rows_or_many(client, charlie, alice, clock):
    def more(count: int) -> None:
        for _ in range(count):
            matter = MatterFactory(classification=Classification.INTERNAL, responsible_partner=alice)
            deny_access_request(actor=alice, access_request=ask(charlie, matter.number), reason=DENIAL)
            grant(charlie, matter, expires_at=T0 + timedelta(days=3))
            MatterFactory(classification=Classification.PUBLIC)
            clock.shift(1)

    pages = (MINE, MY_ACCESS, NEW, NOTIFICATIONS)
    more(2)
    as_user(client, charlie)
    few = [_queries(client, url) for url in pages]
    more(10)
    assert [_queries(client, url) for url in pages] == few


def test_the_deny_form_warns_when_the_requester_cannot_see_the_matter(client, alice, adam, charlie, matter):
    hidden = ask(charlie, matter.number)
    nowhere = ask(charlie, "2026-NONE-0001")

    page = signed_in(client, adam).get(reverse("access:approvals")).content.decode()

    for pending in (hidden, nowhere):
        assert f'id="deny-caution-{pending.pk}"' in page
    assert "do not say whether the number exists" in page
