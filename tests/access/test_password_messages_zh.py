"""The password form speaks Chinese throughout, Django's own validator messages included."""

from __future__ import annotations

from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from tests.factories import PASSWORD


def test_password_rules_and_errors_are_in_chinese(alice, login):
    client = login(alice)
    client.post(reverse("set_language"), {"language": "zh-hans"})
    url = reverse("access:change_password")
    assertContains(client.get(url), "您的密码至少需要 12 个字符。")
    response = client.post(url, {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"})
    assertContains(response, "密码太短，至少需要 12 个字符。")
    assertNotContains(response, "This password is too short")
