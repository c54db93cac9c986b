"""A lawyer's first day, in a real browser: sign in, enrol an authenticator, work on a matter, switch to Chinese.

Screenshots of the matter list in each language are left in /tmp/custos-e2e-*.png
for a person to look at.
"""

from __future__ import annotations

import base64
import re
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django_otp.oath import totp

from access.models import GrantLevel, Role
from matters.models import Classification
from tests.factories import PASSWORD, ClientFactory, MatterFactory, UserFactory, grant, make_document

pytestmark = pytest.mark.e2e

CJK = re.compile(r"[\u4e00-\u9fff]")
# Left for a person to look at after the run (layout, fonts, untranslated text).
SCREENSHOTS = Path(tempfile.gettempdir())
DOCUMENT_BYTES = b"%PDF-1.4\n% Harbour Logistics share purchase agreement, draft 3\n%%EOF\n"


def chinese(msgid: str) -> str:
    """The Simplified Chinese the server will show for ``msgid``; fails if the catalogue has none."""
    with translation.override("zh-hans"):
        text = translation.gettext(msgid)
    assert CJK.search(text), f"no Simplified Chinese translation for {msgid!r} in locale/"
    return text


def code_from_secret(shown: str) -> str:
    """What an authenticator app shows for the key as printed on the enrolment page (base32, in groups)."""
    secret = re.sub(r"\s+", "", shown).upper()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key):06d}"


def submit_main_form(page) -> None:
    page.locator("main form button[type=submit]").click()


@pytest.fixture
def erin(db):
    """Erin, a newly hired associate: a password, no authenticator yet."""
    return UserFactory(username="erin", first_name="Erin", last_name="Test", roles=(Role.LAWYER,))


def test_new_lawyer_enrolls_sees_only_granted_matters_downloads_and_reads_chinese(page, site, erin, alice):
    client = ClientFactory(name="Harbour Logistics Ltd.")
    granted = MatterFactory(
        client=client, title="Harbour Logistics share purchase", classification=Classification.CONFIDENTIAL
    )
    grant(erin, granted, GrantLevel.DOWNLOAD)
    document = make_document(granted, title="Share purchase agreement, draft 3", content=DOCUMENT_BYTES, name="spa.pdf")
    hidden = MatterFactory(title="Pearl River arbitration", responsible_partner=alice)
    grant(alice, hidden, GrantLevel.MANAGE)

    # Password first; with no authenticator yet, Erin is taken to enrolment.
    page.goto(f"{site}/matters/")
    page.fill("input[name=username]", "erin")
    page.fill("input[name=password]", PASSWORD)
    submit_main_form(page)
    page.wait_for_url(re.compile(r"/account/sign-in/enroll/"))

    # No matter data before the second factor, even by typing the address.
    page.goto(f"{site}{granted.get_absolute_url()}")
    page.wait_for_url(re.compile(r"/account/sign-in/enroll/"))
    assert granted.title not in page.content()

    page.goto(f"{site}/account/sign-in/enroll/?next=/matters/")
    page.fill("input[name=token]", code_from_secret(page.locator("#totp-secret").inner_text()))
    submit_main_form(page)

    page.wait_for_url(re.compile(r"/account/security/backup-codes/"))
    codes = page.locator("#backup-codes li").all_inner_texts()
    assert len(codes) == settings.BACKUP_CODE_COUNT
    assert all(code.strip() for code in codes)
    assert len(set(codes)) == len(codes)
    page.get_by_role("button", name="I have saved them — continue").click()  # on to where she was going

    # Exactly the granted matter: the other is neither listed nor counted.
    page.wait_for_url(f"{site}/matters/")
    assert page.locator("#matter-count").inner_text().strip() == "1 matter"
    listed = page.locator("table.list tbody tr td:first-child").all_inner_texts()
    assert listed == [granted.number]
    assert hidden.number not in page.content()
    assert hidden.title not in page.content()
    page.screenshot(path=SCREENSHOTS / "custos-e2e-matters-en.png", full_page=True)

    page.get_by_role("link", name=granted.number).click()
    page.wait_for_url(f"{site}{granted.get_absolute_url()}")
    assert page.locator("h1").inner_text() == granted.title

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == document.original_name
    assert Path(download.path()).read_bytes() == DOCUMENT_BYTES

    # The language switcher keeps Erin on the page she was reading.
    page.select_option("#language-select", "zh-hans")
    page.locator("form.lang button[type=submit]").click()
    page.wait_for_selector("html[lang=zh-hans]")
    assert page.url == f"{site}{granted.get_absolute_url()}"
    assert chinese("Documents") in page.locator("main h2").all_inner_texts()

    page.locator("header nav").get_by_role("link", name=chinese("Matters")).click()
    page.wait_for_url(f"{site}/matters/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("main h1").inner_text() == chinese("Your matters")
    headers = page.locator("table.list thead th").all_inner_texts()
    assert headers[:3] == [chinese("Number"), chinese("Title"), chinese("Client")]
    assert page.locator("table.list tbody tr td:first-child").all_inner_texts() == [granted.number]
    page.screenshot(path=SCREENSHOTS / "custos-e2e-matters-zh-hans.png", full_page=True)


def test_outsider_opening_a_matter_address_sees_not_found(page, site, charlie, matter):
    document = make_document(matter)
    device = charlie.totpdevice_set.get(confirmed=True)

    page.goto(f"{site}/")
    page.fill("input[name=username]", charlie.username)
    page.fill("input[name=password]", PASSWORD)
    submit_main_form(page)
    page.wait_for_url(re.compile(r"/account/sign-in/verify/"))
    page.fill("input[name=token]", f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}")
    submit_main_form(page)
    page.wait_for_url(f"{site}/matters/")

    for path in (matter.get_absolute_url(), f"/matters/documents/{document.pk}/download/"):
        response = page.goto(f"{site}{path}")
        assert response.status == 404, path
        assert page.locator("main h1").inner_text() == "Not found"
        assert matter.title not in page.content()
        assert matter.number not in page.content()
