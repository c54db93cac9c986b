"""Training that opens confidential matters, in a real browser.

Harriet (HR) assigns the confidentiality course to Charlie, due today. Two days later his
confidential matter is locked — in Chinese, his browser's language: the list hides its
title, opening it is refused with the reason and a link to the course, while his internal
matter still opens. He reads the course, passes the quiz and the matter opens. Harriet's
dashboard chart for the course moves from 0% to 100%.

Screenshots are left in /tmp/custos-e2e-training-*.png.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from access.models import GrantLevel
from matters.models import Classification
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.signing_in import sign_in
from tests.e2e.test_lawyer_journey import SCREENSHOTS, chinese
from tests.factories import MatterFactory, grant, make_course

pytestmark = pytest.mark.e2e

SECRET_TITLE = "Pearl River tender — bid strategy"
OPEN_TITLE = "Office lease renewal"
COURSE_ZH = "保密义务"


@pytest.fixture
def chinese_page(browser, browser_context_args):
    """Charlie's browser, which asks for Simplified Chinese."""
    context = browser.new_context(**{**browser_context_args, "locale": "zh-CN"})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def course_rate(page, site: str, course) -> str:
    page.goto(f"{site}/training/manage/")
    return page.locator(f"#chart-courses g[data-course='{course.pk}']").get_attribute("data-rate")


def test_hr_assigns_a_lapsed_lawyer_is_refused_passes_the_quiz_and_opens_the_matter(
    page, chinese_page, site, harriet, charlie
):
    course = make_course("Confidentiality duties", title_zh=COURSE_ZH, questions=2)
    secret = MatterFactory(title=SECRET_TITLE, classification=Classification.CONFIDENTIAL)
    internal = MatterFactory(title=OPEN_TITLE, classification=Classification.INTERNAL)
    grant(charlie, secret, GrantLevel.VIEW)
    grant(charlie, internal, GrantLevel.VIEW)

    # Harriet assigns the course to Charlie, due today; her chart shows nobody has passed it.
    sign_in(page, site, harriet)
    page.goto(f"{site}/training/manage/courses/{course.pk}/assign/")
    page.locator("input[name=target][value=person]").check()
    page.select_option("select[name=person]", str(charlie.pk))
    page.fill("input[name=due_on]", timezone.localdate().isoformat())
    page.locator("#assign-submit").click()
    page.wait_for_url(re.compile(r"/training/manage/courses/"))
    assert "Charlie Test was assigned the course" in page.locator(".messages").inner_text()
    assert course_rate(page, site, course) == "0"

    # Two days on, the course is overdue.
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=True):
        sign_in(chinese_page, site, charlie)
        banner = chinese_page.locator("#gate-banner")
        assert COURSE_ZH in banner.inner_text()
        rows = chinese_page.locator("table.matters tbody").inner_text()
        assert SECRET_TITLE not in rows and OPEN_TITLE in rows
        chinese_page.screenshot(path=SCREENSHOTS / "custos-e2e-training-locked-zh.png", full_page=True)

        # The internal matter opens; the confidential one is refused, with the reason and the way out.
        assert chinese_page.goto(f"{site}{internal.get_absolute_url()}").status == 200
        refused = chinese_page.goto(f"{site}{secret.get_absolute_url()}")
        assert refused.status == 403
        reason = chinese("Your training “%(title)s” is overdue. Complete it to open confidential matters.")
        assert reason % {"title": COURSE_ZH} in chinese_page.locator("main").inner_text()
        assert SECRET_TITLE not in chinese_page.content()

        # He reads the course and passes the quiz (the first answer of each question is the right one).
        chinese_page.locator("#remedy").click()
        chinese_page.wait_for_url(re.compile(rf"/training/courses/{course.pk}/$"))
        assert chinese_page.locator("main h1").inner_text() == COURSE_ZH
        chinese_page.locator("#quiz-button").click()
        for question in chinese_page.locator("#quiz-form fieldset.question").all():
            question.get_by_label("Right").check()
        chinese_page.locator("#quiz-form button[type=submit]").click()
        chinese_page.wait_for_url(re.compile(r"/training/attempts/"))
        chinese_page.screenshot(path=SCREENSHOTS / "custos-e2e-training-passed-zh.png", full_page=True)

        # The matter opens, with nobody's intervention.
        opened = chinese_page.goto(f"{site}{secret.get_absolute_url()}")
        assert opened.status == 200
        assert SECRET_TITLE in chinese_page.locator("main").inner_text()

        # Harriet's chart shows the change.
        sign_in(page, site, harriet)
        assert course_rate(page, site, course) == "100"
        page.screenshot(path=SCREENSHOTS / "custos-e2e-training-dashboard.png", full_page=True)
