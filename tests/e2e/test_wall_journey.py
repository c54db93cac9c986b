"""A conflict found at intake, cleared with an ethical wall, in a real browser.

Alice opens a matter for a new client against 华信科技有限公司 — typed with spaces — and
the conflict check finds the firm's existing matter for that company, where Bob acts.
Connie, the conflicts partner, clears the check with a wall that screens Bob from the new
matter. Bob's team is then given the matter, but Bob is refused (Not found) while Alice
opens it; the attempt is recorded and Dana, the security officer, finds the alert.

A screenshot of Dana's alert inbox is left in /tmp/custos-e2e-wall-alert.png.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from access.models import EthicalWall, GrantLevel, WallKind
from audit.detection import run_detection
from matters.models import Classification, ConflictCheck, Matter, MatterStatus
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.signing_in import sign_in
from tests.e2e.test_lawyer_journey import SCREENSHOTS
from tests.factories import ClientFactory, MatterFactory, grant

pytestmark = pytest.mark.e2e

NEW_TITLE = "Orion v. Huaxin — supply contract"


@pytest.fixture
def fresh_page(browser, browser_context_args):
    """A new browser (its own cookies) for each person who signs in beside Alice."""
    contexts = []

    def make():
        context = browser.new_context(**browser_context_args)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        return page

    yield make
    for context in contexts:
        context.close()


def test_a_conflict_at_intake_is_cleared_with_a_wall_that_refuses_the_screened_lawyer(
    page, fresh_page, site, alice, bob, connie, dana
):
    huaxin = ClientFactory(name="华信科技有限公司")
    existing = MatterFactory(number="2026-LIT-0100", client=huaxin, classification=Classification.CONFIDENTIAL)
    grant(bob, existing, GrantLevel.VIEW)
    team = Group.objects.create(name="Litigation team")
    team.user_set.add(alice, bob)

    # Alice opens the new matter; the check finds the existing one, by number and client code only.
    sign_in(page, site, alice)
    page.goto(f"{site}/matters/intake/")
    page.fill("input[name=title]", NEW_TITLE)
    page.select_option("select[name=responsible_partner]", str(alice.pk))
    page.fill("input[name=new_client_name]", "Orion Semiconductor Ltd.")
    page.fill("input[name=adverse_1_name]", "华信 科技 有限公司")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/matters/intake/checks/"))
    hits = page.locator("main").inner_text()
    assert existing.number in hits and huaxin.code in hits
    assert "华信" not in hits and existing.title not in hits
    # The number was assigned: the next litigation matter of the year, after the existing one.
    matter = Matter.objects.get(status=MatterStatus.INTAKE)
    year = timezone.localdate().year
    assert matter.number == f"{year}-LIT-{101 if year == 2026 else 1:04d}" and matter.number in hits
    check = ConflictCheck.objects.get(matter=matter)

    # Connie clears it with a wall that keeps Bob out of the new matter.
    second_page = fresh_page()
    sign_in(second_page, site, connie)
    second_page.goto(f"{site}/matters/intake/checks/{check.pk}/")
    second_page.locator("input[name=decision][value=wall]").check()
    second_page.locator("#decision button[type=submit]").click()
    second_page.wait_for_url(re.compile(r"/access/walls/new/"))
    second_page.locator("input[name=kind][value=exclusionary]").check()
    second_page.fill("input[name=matter_number]", matter.number)
    second_page.fill("input[name=client_code]", "")
    second_page.select_option("select[name=people]", [str(bob.pk)])
    second_page.fill("textarea[name=reason]", "Bob acts for Huaxin on 2026-LIT-0100.")
    second_page.fill("textarea[name=memo]", "Do not discuss this matter with the Orion team.")
    second_page.locator("main form button[type=submit]").last.click()
    second_page.wait_for_url(re.compile(r"/access/walls/[0-9a-f-]{36}/$"))
    wall = EthicalWall.objects.get(matter=matter)
    assert wall.kind == WallKind.EXCLUSIONARY and wall.conflict_check_id == check.pk

    # Bob's team is given the matter, but the wall wins: Bob gets Not found, Alice the matter.
    matter.refresh_from_db()
    assert matter.status == MatterStatus.OPEN
    grant(team, matter, GrantLevel.VIEW)
    second_page = fresh_page()
    sign_in(second_page, site, bob)
    assert second_page.goto(f"{site}{matter.get_absolute_url()}").status == 404
    assert NEW_TITLE not in second_page.content()
    assert page.goto(f"{site}{matter.get_absolute_url()}").status == 200
    assert NEW_TITLE in page.locator("main").inner_text()

    # The detection job (every minute in production) raises the alert; Dana finds it. Run as a
    # minute later: the chain waits AUDIT_GAP_GRACE_SECONDS at a gap in the event ids, which
    # PostgreSQL leaves wherever an insert rolled back.
    run_detection(now=timezone.now() + timedelta(minutes=1))
    second_page = fresh_page()
    sign_in(second_page, site, dana)
    second_page.goto(f"{site}/audit/alerts/")
    inbox = second_page.locator("main").inner_text()
    assert "through an ethical wall" in inbox and matter.number in inbox and "bob" in inbox
    second_page.screenshot(path=SCREENSHOTS / "custos-e2e-wall-alert.png", full_page=True)
