"""The audit trail in a real browser: a lawyer is refused a matter; the security officer finds it and exports it.

A screenshot of the security officer's filtered view is left in /tmp/custos-e2e-audit-events.png.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import pytest

from tests.e2e.signing_in import sign_in

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(tempfile.gettempdir())


def test_denied_lawyer_is_found_by_the_security_officer_who_exports_it(
    browser, browser_context_args, site, charlie, dana, matter
):
    matter.title = "Project Kestrel takeover defence"
    matter.save(update_fields=["title"])

    # Charlie, a lawyer without a grant, tries the matter's address and the review screen.
    lawyer = browser.new_context(**browser_context_args).new_page()
    sign_in(lawyer, site, charlie)
    assert lawyer.goto(f"{site}{matter.get_absolute_url()}").status == 404
    assert matter.title not in lawyer.content()
    assert lawyer.goto(f"{site}/audit/").status == 404  # refused, and that too is on record
    assert lawyer.locator("main h1").inner_text() == "Not found"
    assert "Audit" not in lawyer.locator("header nav").inner_text()

    # Dana, the security officer, lands on the audit section after signing in.
    officer = browser.new_context(**browser_context_args).new_page()
    sign_in(officer, site, dana)
    officer.wait_for_url(f"{site}/audit/")
    assert officer.locator("header nav").get_by_role("link", name="Audit").get_attribute("aria-current") == "page"

    officer.fill("input[name=person]", "charlie")
    officer.select_option("select[name=action]", "matter.view")
    officer.select_option("select[name=outcome]", "denied")
    officer.get_by_role("button", name="Filter").click()
    officer.wait_for_url(re.compile(r"/audit/\?.*person=charlie"))

    rows = officer.locator("table.audit-events tbody tr")
    assert rows.count() >= 1
    first = rows.first.locator("td").all_inner_texts()
    assert first[1] == "charlie"
    assert first[2] == "Viewed matter"
    assert first[3] == "Denied"
    assert first[4] == matter.number
    # Who, what, which matter number — never the matter's contents.
    assert matter.title not in officer.content()
    assert matter.client.name not in officer.content()
    officer.screenshot(path=SCREENSHOTS / "custos-e2e-audit-events.png", full_page=True)

    with officer.expect_download() as download_info:
        officer.get_by_role("link", name="CSV").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    exported = list(csv.DictReader(io.StringIO(text)))
    assert exported, "the export is empty"
    assert {(row["actor"], row["action"], row["outcome"]) for row in exported} == {("charlie", "matter.view", "denied")}
    assert any(row["matter_number"] == matter.number for row in exported)
    assert matter.title not in text

    # The export is itself in the trail: Dana's own timeline shows it.
    officer.goto(f"{site}/audit/?person=dana&action=audit.export")
    assert officer.locator("table.audit-events tbody tr").count() == 1
