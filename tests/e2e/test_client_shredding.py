"""Crypto-shredding in a real browser: the security officer asks (in Chinese), an administrator approves,
and the lawyer on the matter finds its contents destroyed and its document gone.

A screenshot of the officer's page is left in /tmp/custos-e2e-client-keys-zh.png.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from access.models import GrantLevel
from tests.e2e.signing_in import sign_in
from tests.factories import ClientFactory, MatterFactory, grant, make_document

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(tempfile.gettempdir())


def test_two_people_destroy_a_clients_keys_and_the_lawyer_finds_it_gone(
    browser, browser_context_args, site, alice, dana, adam
):
    client = ClientFactory(
        code="C-7001", name="Jade River Trading Co., Ltd.", retention_until=timezone.localdate() - timedelta(days=30)
    )
    matter = MatterFactory(client=client, title="Sale of the Ningbo warehouse business", responsible_partner=alice)
    grant(alice, matter, GrantLevel.DOWNLOAD)
    document = make_document(matter, title="Completion statement", name="completion.txt", content=b"Price: 7,500,000\n")

    # Dana, the security officer, works in Chinese: she sees the client by code only and asks.
    officer = browser.new_context(**{**browser_context_args, "locale": "zh-CN"}).new_page()
    sign_in(officer, site, dana)
    officer.goto(f"{site}/matters/clients/keys/")
    assert officer.locator("main h1").inner_text() == "客户密钥"
    officer.get_by_role("link", name="C-7001").click()
    assert client.name not in officer.content() and matter.title not in officer.content()
    officer.fill("input[name=shred-code]", "C-7001")
    officer.locator("#request-form button[type=submit]").click()
    assert "须由另一人批准" in officer.locator("ul.messages").inner_text()
    assert officer.locator("#approve-form").count() == 0  # she asked: she cannot approve
    officer.screenshot(path=SCREENSHOTS / "custos-e2e-client-keys-zh.png", full_page=True)

    # Adam, an administrator, approves; a mistyped code is named, then the right one destroys the keys.
    admin = browser.new_context(**browser_context_args).new_page()
    sign_in(admin, site, adam)
    admin.goto(f"{site}/matters/clients/keys/")
    admin.get_by_role("link", name="C-7001").click()
    admin.fill("input[name=approve-code]", "C-7000")
    admin.locator("#approve-form button[type=submit]").click()
    assert "This is not the code of this client." in admin.content()
    admin.fill("input[name=approve-code]", "C-7001")
    admin.locator("#approve-form button[type=submit]").click()
    assert "The client's keys were destroyed." in admin.locator("ul.messages").inner_text()

    # Alice still sees the matter by number, its contents destroyed; the document answers 410.
    lawyer = browser.new_context(**browser_context_args).new_page()
    sign_in(lawyer, site, alice)
    lawyer.goto(f"{site}{matter.get_absolute_url()}")
    assert lawyer.locator("main h1").inner_text() == "destroyed"
    assert matter.title not in lawyer.content()
    response = lawyer.goto(f"{site}/matters/documents/{document.pk}/download/")
    assert response.status == 410
    assert lawyer.locator("main h1").inner_text() == "This document was destroyed"
