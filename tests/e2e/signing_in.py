"""Signing a persona in through the real sign-in pages, both factors, as the browser tests do."""

from __future__ import annotations

import re

from django_otp.oath import totp

from tests.factories import PASSWORD


def sign_in(page, site: str, user) -> None:
    device = user.totpdevice_set.get(confirmed=True)
    page.goto(f"{site}/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/sign-in/verify/"))
    page.fill("input[name=token]", f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(rf"^{re.escape(site)}/(matters/|audit/)?$"))
