"""Asking for a confidential matter and losing it again, in a real browser.

Charlie, a lawyer, asks for a matter by number; Alice, its partner, approves from her
queue in another browser — hers speaks Chinese; Charlie opens it; Alice revokes him from
the team page, and Charlie's next click answers Not found.

A screenshot of Alice's queue is left in /tmp/custos-e2e-approvals-zh.png.
"""

from __future__ import annotations

import re

import pytest

from access.models import AccessRequest, GrantLevel, MatterUserGrant
from matters.models import Classification
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.signing_in import sign_in
from tests.e2e.test_lawyer_journey import CJK, SCREENSHOTS, chinese
from tests.factories import MatterFactory, grant

pytestmark = pytest.mark.e2e

TITLE = "Jade Harbour joint venture"
REASON = "Covering the closing while Bob is on leave"


@pytest.fixture
def partner_page(browser, browser_context_args):
    """A second browser, for Alice, signed in beside Charlie; she reads Chinese."""
    context = browser.new_context(**{**browser_context_args, "locale": "zh-CN"})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def test_a_lawyer_asks_the_partner_approves_then_revokes(page, partner_page, site, alice, charlie):
    matter = MatterFactory(title=TITLE, responsible_partner=alice, classification=Classification.CONFIDENTIAL)
    grant(alice, matter, GrantLevel.MANAGE)
    matter_url = f"{site}{matter.get_absolute_url()}"

    # Charlie cannot see the matter, and it is not offered to him.
    sign_in(page, site, charlie)
    assert page.goto(matter_url).status == 404
    page.goto(f"{site}/access/requests/new/")
    assert matter.number not in page.locator("main").inner_text()

    # He asks by number.
    page.fill("input[name=number]", matter.number)
    page.select_option("select[name=level]", GrantLevel.VIEW.value)
    page.fill("textarea[name=reason]", REASON)
    page.locator("#request-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/access/requests/$"))
    assert matter.number in page.locator(".messages").inner_text()
    request = AccessRequest.objects.get(requester=charlie)

    # Alice finds it in her queue — by number, with Charlie's reason — and approves in one click.
    sign_in(partner_page, site, alice)
    partner_page.goto(f"{site}/access/approvals/")
    row = partner_page.locator(f"#request-{request.pk}")
    assert matter.number in row.inner_text()
    assert REASON in row.inner_text()
    assert TITLE not in row.inner_text()
    assert chinese("Approve") in row.inner_text()
    partner_page.screenshot(path=SCREENSHOTS / "custos-e2e-approvals-zh.png", full_page=True)
    row.locator(".approve-form button[type=submit]").click()
    partner_page.wait_for_url(re.compile(r"/access/approvals/$"))
    granted = partner_page.locator(".messages").inner_text()
    assert matter.number in granted
    assert CJK.search(granted), granted

    # Charlie is told, and opens the matter.
    page.goto(f"{site}/notifications/")
    assert "was approved" in page.locator("main").inner_text()
    assert page.goto(matter_url).status == 200
    assert TITLE in page.locator("main").inner_text()

    # Alice revokes him from the team page, saying why.
    partner_page.goto(f"{matter_url}")
    partner_page.get_by_role("link", name=chinese("Team and access")).click()
    held = MatterUserGrant.objects.get(user=charlie, content_object=matter)
    partner_page.fill(f"#revoke-user-{held.pk}", "The closing is done")
    partner_page.locator(f"#person-grant-{held.pk} button[type=submit]").click()
    partner_page.wait_for_url(re.compile(r"/team/$"))
    assert partner_page.locator(f"#person-grant-{held.pk}").count() == 0

    # Charlie's next click answers Not found, and the reason reaches him in the app.
    response = page.reload()
    assert response.status == 404
    assert TITLE not in page.content()
    page.goto(f"{site}/notifications/")
    assert "The closing is done" in page.locator("main").inner_text()
