"""The access review pages: the security officer's campaigns and reports, the partners' queue.

Dana starts, reads and closes reviews and removes unused access; Alice confirms or
revokes the grants on her matters; everyone else gets 404. Matters appear by number
and client code, never by title.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from access.models import AccessReviewCampaign, GrantLevel, MatterUserGrant, ReviewDecision, Role
from access.reviews import decide, start_campaign
from audit.actions import AuditAction, Outcome
from audit.events import record_event
from audit.models import AuditEvent
from tests.access.test_sign_in import T0
from tests.conftest import signed_in
from tests.factories import MatterFactory, UserFactory, grant

REVIEWS = reverse("access:reviews")
STALE = reverse("access:stale_access")
TITLE = "Operation Nightjar"
TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def campaign(alice, bob, charlie, dana, matter):
    matter.title = TITLE
    matter.save()
    grant(charlie, matter, GrantLevel.DOWNLOAD)
    return start_campaign(actor=dana, name="Spring review", closes_on=TODAY + timedelta(days=14))


def _item(campaign, user):
    return campaign.items.get(user=user)


def _decide_url(item) -> str:
    return reverse("access:review_decide", args=[item.pk])


# --- who gets what -------------------------------------------------------------------------------


def test_a_partner_sees_only_the_grants_on_their_matters(client, alice, bob, charlie, campaign, matter):
    partner2 = UserFactory(roles=[Role.PARTNER])
    theirs = MatterFactory(responsible_partner=partner2, number="2026-X-99999")
    grant(bob, theirs)
    start_campaign(closes_on=TODAY + timedelta(days=30))  # a second open review: items from both are listed

    response = signed_in(client, alice).get(REVIEWS)

    assertContains(response, matter.number)
    assertContains(response, matter.client.code)
    assertContains(response, _decide_url(_item(campaign, bob)))
    assertContains(response, _decide_url(_item(campaign, charlie)))
    assertNotContains(response, theirs.number)
    assertNotContains(response, TITLE)
    assertNotContains(response, 'id="start"')  # starting is the security officer's
    assert response.context["mine"].paginator.count == 4


def test_people_with_nothing_to_review_get_404(client, bob, charlie, adam, root, harriet, campaign):
    for person in (bob, charlie, adam, root, harriet):
        assert signed_in(client, person).get(REVIEWS).status_code == 404
    refused = AuditEvent.objects.filter(action=AuditAction.ACCESS_OVERVIEW, outcome=Outcome.DENIED)
    assert refused.count() == 5


def test_a_partner_without_items_gets_an_empty_page(client, campaign):
    partner2 = UserFactory(roles=[Role.PARTNER])
    response = signed_in(client, partner2).get(REVIEWS)
    assertContains(response, 'id="my-items-empty"')


def test_the_security_officer_sees_campaigns_and_the_unassigned_items(client, alice, dana, campaign, matter):
    response = signed_in(client, dana).get(REVIEWS)
    assertContains(response, reverse("access:review_detail", args=[campaign.pk]))
    assertContains(response, "Spring review")
    assertContains(response, _decide_url(_item(campaign, alice)))  # Alice's own access
    assertContains(response, 'id="start"')
    assertNotContains(response, TITLE)


# --- starting --------------------------------------------------------------------------------------


def test_the_security_officer_starts_a_review(client, alice, bob, dana, matter):
    response = signed_in(client, dana).post(REVIEWS, {"name": "Q1", "closes_on": "2026-03-20"})
    started = AccessReviewCampaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("access:review_detail", args=[started.pk])
    assert (started.name, started.closes_on, started.started_by) == ("Q1", date(2026, 3, 20), dana)
    assert started.items.count() == 2


def test_bad_input_is_a_form_error(client, dana):
    client = signed_in(client, dana)
    for closes_on in ("2026-03-01", "2026-03-02", "next week", ""):
        response = client.post(REVIEWS, {"name": "Q1", "closes_on": closes_on})
        assert response.status_code == 200
        assert response.context["form"].errors["closes_on"]
    assert not AccessReviewCampaign.objects.exists()


def test_a_partner_cannot_start_a_review(client, alice, campaign):
    response = signed_in(client, alice).post(REVIEWS, {"name": "Mine", "closes_on": "2026-03-20"})
    assert response.status_code == 404
    assert AccessReviewCampaign.objects.count() == 1


# --- deciding ----------------------------------------------------------------------------------


def test_confirm_keeps_and_revoke_ends_access_at_once(client, alice, bob, charlie, campaign, matter):
    detail = reverse("matters:detail", args=[matter.pk])
    assert signed_in(client, charlie).get(detail).status_code == 200

    alice_client = signed_in(client, alice)
    response = alice_client.post(_decide_url(_item(campaign, bob)), {"decision": "confirm"})
    assert response.status_code == 302
    response = alice_client.post(_decide_url(_item(campaign, charlie)), {"decision": "revoke"}, follow=True)
    assertContains(response, "revoked; it ended at once")

    assert _item(campaign, bob).decision == ReviewDecision.CONFIRMED
    assert _item(campaign, charlie).decision == ReviewDecision.REVOKED
    assert signed_in(client, bob).get(detail).status_code == 200
    assert signed_in(client, charlie).get(detail).status_code == 404


def test_a_partner_cannot_decide_another_partners_items(client, bob, dana, campaign):
    partner2 = UserFactory(roles=[Role.PARTNER])
    item = _item(campaign, bob)
    for person in (partner2, bob, dana):
        response = signed_in(client, person).post(_decide_url(item), {"decision": "revoke"})
        assert response.status_code == 404
    assert _item(campaign, bob).decision == ReviewDecision.PENDING
    assert MatterUserGrant.objects.filter(user=bob).exists()


def test_deciding_takes_post_and_a_known_decision(client, alice, bob, campaign):
    client = signed_in(client, alice)
    item = _item(campaign, bob)
    assert client.get(_decide_url(item)).status_code == 405
    response = client.post(_decide_url(item), {"decision": "later"}, follow=True)
    assertContains(response, "Choose confirm or revoke.")
    assert _item(campaign, bob).decision == ReviewDecision.PENDING
    assert client.post(reverse("access:review_decide", args=[10**6]), {"decision": "confirm"}).status_code == 404


def test_deciding_twice_is_refused_with_a_message(client, alice, bob, campaign):
    client = signed_in(client, alice)
    item = _item(campaign, bob)
    client.post(_decide_url(item), {"decision": "confirm"})
    response = client.post(_decide_url(item), {"decision": "revoke"}, follow=True)
    assertContains(response, "already been decided")
    assert MatterUserGrant.objects.filter(user=bob).exists()


# --- the report and closing ----------------------------------------------------------------------


def test_the_report_shows_who_confirmed_what(client, alice, bob, charlie, dana, campaign, matter):
    decide(actor=alice, item=_item(campaign, bob), decision="confirm")
    decide(actor=dana, item=_item(campaign, alice), decision="confirm")
    url = reverse("access:review_detail", args=[campaign.pk])

    response = signed_in(client, dana).get(url)

    rows = {item.user: item for item in response.context["page"].object_list}
    assert (rows[bob].decision, rows[bob].decided_by) == (ReviewDecision.CONFIRMED, alice)
    assert (rows[alice].decision, rows[alice].decided_by) == (ReviewDecision.CONFIRMED, dana)
    assert rows[charlie].decision == ReviewDecision.PENDING
    assertContains(response, f'id="item-{rows[bob].pk}" class="decision-confirmed"')
    assertContains(response, "2026-03-02 09:00")  # when, local time
    assert dict((d.value, n) for d, n in response.context["counts"])["confirmed"] == 2
    assertContains(response, matter.client.code)
    assertNotContains(response, TITLE)
    filtered = signed_in(client, dana).get(url, {"decision": "pending"})
    assert [item.user for item in filtered.context["page"].object_list] == [charlie]


def test_only_the_security_officer_reads_the_report_and_closes(client, alice, bob, adam, root, campaign):
    detail = reverse("access:review_detail", args=[campaign.pk])
    close = reverse("access:review_close", args=[campaign.pk])
    for person in (alice, bob, adam, root):
        assert signed_in(client, person).get(detail).status_code == 404
        assert signed_in(client, person).post(close).status_code == 404
    campaign.refresh_from_db()
    assert campaign.closed_at is None


def test_close_now_revokes_what_nobody_confirmed(client, alice, bob, charlie, dana, campaign):
    decide(actor=alice, item=_item(campaign, bob), decision="confirm")
    client = signed_in(client, dana)
    close = reverse("access:review_close", args=[campaign.pk])
    assert client.get(close).status_code == 405

    response = client.post(close, follow=True)

    assertContains(response, "2 grants nobody confirmed were revoked")
    assert set(MatterUserGrant.objects.values_list("user__username", flat=True)) == {"bob"}
    assertNotContains(response, 'id="close-form"')
    response = client.post(close, follow=True)
    assertContains(response, "already closed")


# --- stale access ------------------------------------------------------------------------------


@pytest.fixture
def stale_world(alice, bob, charlie, matter, clock):
    """Bob and Charlie got access 100 days ago; Bob opened the matter 95 days ago, Charlie never."""
    grant(charlie, matter)
    for holder in (bob, charlie):
        MatterUserGrant.objects.filter(user=holder).update(created_at=T0 - timedelta(days=100))
    with time_machine.travel(T0 - timedelta(days=95), tick=False):
        record_event(AuditAction.MATTER_VIEW, target=matter, actor=bob)
    matter.title = TITLE
    matter.save()
    return {g.user.username: g for g in MatterUserGrant.objects.select_related("user")}


def test_the_security_officer_sees_the_proposals_with_their_last_use(client, dana, stale_world, matter):
    response = signed_in(client, dana).get(STALE)
    assertContains(response, f'id="grant-{stale_world["bob"].pk}"')
    assertContains(response, f'id="grant-{stale_world["charlie"].pk}"')
    assertNotContains(response, f'id="grant-{stale_world["alice"].pk}"')
    assertContains(response, "2025-11-27")  # Bob's last use
    assertContains(response, "never")
    assertNotContains(response, TITLE)


def test_the_security_officer_removes_the_chosen_grants(client, dana, charlie, stale_world, matter):
    response = signed_in(client, dana).post(
        reverse("access:stale_revoke"), {"grants": [stale_world["charlie"].pk]}, follow=True
    )
    assertContains(response, "1 unused grant was removed")
    assert set(MatterUserGrant.objects.values_list("user__username", flat=True)) == {"alice", "bob"}
    assert signed_in(client, charlie).get(reverse("matters:detail", args=[matter.pk])).status_code == 404


def test_a_grant_that_is_not_stale_cannot_be_removed_here(client, dana, stale_world):
    client = signed_in(client, dana)
    for chosen in ([stale_world["alice"].pk], ["x"], []):
        response = client.post(reverse("access:stale_revoke"), {"grants": chosen}, follow=True)
        assert response.status_code == 200
        assert list(response.context["messages"])
    assert MatterUserGrant.objects.count() == 3


def test_only_the_security_officer_reaches_stale_access(client, alice, bob, adam, root, stale_world):
    for person in (alice, bob, adam, root):
        assert signed_in(client, person).get(STALE).status_code == 404
        response = signed_in(client, person).post(reverse("access:stale_revoke"), {"grants": [stale_world["bob"].pk]})
        assert response.status_code == 404
    assert MatterUserGrant.objects.count() == 3


def test_a_reviewer_without_the_partner_role_still_reaches_their_items(client, bob, charlie, dana):
    # The matter's responsible partner field names a lawyer: they are still its reviewer.
    theirs = MatterFactory(responsible_partner=bob)
    grant(charlie, theirs)
    campaign = start_campaign(actor=dana)
    response = signed_in(client, bob).get(REVIEWS)
    assertContains(response, _decide_url(campaign.items.get(user=charlie)))


def test_the_pages_query_count_does_not_grow_with_the_items(client, alice, dana, matter):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(person, url) -> int:
        signed = signed_in(client, person)
        with CaptureQueriesContext(connection) as captured:
            assert signed.get(url).status_code == 200
        return len(captured)

    def measure() -> tuple[int, int, int]:
        campaign = start_campaign(actor=dana)
        counts = (
            queries(alice, REVIEWS),
            queries(dana, REVIEWS),
            queries(dana, reverse("access:review_detail", args=[campaign.pk])),
        )
        AccessReviewCampaign.objects.all().delete()
        return counts

    for _ in range(2):
        grant(UserFactory(roles=[Role.LAWYER]), matter)
    few = measure()
    for _ in range(10):
        grant(UserFactory(roles=[Role.LAWYER]), matter)
        grant(UserFactory(roles=[Role.LAWYER]), MatterFactory(responsible_partner=None))
    assert measure() == few
