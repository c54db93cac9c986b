"""What the list says about filters it cannot use, in both languages."""

from __future__ import annotations

from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains


def test_an_unknown_filter_value_is_named_plainly_and_can_be_cleared(matter, bob, login):
    response = login(bob).get(f"{reverse('matters:list')}?classification=99")
    assertContains(response, "Classification: “99” is not one of the choices; it was left out.")
    assertContains(response, f'href="{reverse("matters:list")}">Clear</a>', html=False)


def test_in_chinese_the_message_reads_as_chinese(matter, bob, login):
    client = login(bob)
    client.post(reverse("set_language"), {"language": "zh-hans"})
    response = client.get(f"{reverse('matters:list')}?classification=99")
    assertContains(response, "保密级别：“99”不是可选项，已忽略。")


def test_a_page_number_alone_offers_no_clear_button(matter, bob, login):
    assertNotContains(login(bob).get(f"{reverse('matters:list')}?page=1"), ">Clear</a>", html=False)
