"""The matter list of a lapsed person: confidential rows by number only, behind a banner that
says why and links to the way back — asked once per page, never once per matter."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import GrantLevel
from matters.models import Classification
from tests.conftest import signed_in
from tests.factories import ClientFactory, MatterFactory, answer_key, grant, make_course, make_policy_document
from training import services
from training.models import RuleTarget

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
DUE = date(2026, 3, 7)
LAPSED_AT = T0 + timedelta(days=6)  # the day after the due date
LIST_URL = reverse("matters:list")
LOCKED = "Locked until your training is complete"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def course(harriet, bob, charlie):
    """Bob and Charlie owe the confidentiality course by DUE."""
    course = make_course("Confidentiality duties")
    for person in (bob, charlie):
        services.assign_course(actor=harriet, course=course, target=RuleTarget.PERSON, person=person, due_on=DUE)
    return course


def matters_for(person, count: int, classification=Classification.CONFIDENTIAL, prefix="CF"):
    made = []
    for number in range(count):
        matter = MatterFactory(
            number=f"{prefix}-{number:03d}",
            title=f"Secret title {prefix} {number}",
            client=ClientFactory(name=f"Secret client {prefix} {number}"),
            classification=classification,
        )
        grant(person, matter, GrantLevel.VIEW)
        made.append(matter)
    return made


def text_of(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def pass_course(person, course):
    attempt = services.start_attempt(user=person, course=course)
    services.submit_attempt(user=person, attempt_id=attempt.pk, answers=answer_key(course))


def test_a_lapsed_lawyer_sees_confidential_matters_by_number_only_behind_a_banner(client, course, bob, clock):
    confidential = matters_for(bob, 2)
    highly = matters_for(bob, 1, Classification.HIGHLY_CONFIDENTIAL, prefix="HC")[0]
    internal = matters_for(bob, 1, Classification.INTERNAL, prefix="IN")[0]
    clock.move_to(LAPSED_AT)

    page = text_of(signed_in(client, bob).get(LIST_URL))

    banner = page[page.index('id="gate-banner"') : page.index("</div>", page.index('id="gate-banner"'))]
    assert "Your training “Confidentiality duties” is overdue." in banner
    assert f'href="{course.get_absolute_url()}"' in banner
    assert "Go to the course" in banner
    for matter in [*confidential, highly]:
        assert f'href="{matter.get_absolute_url()}"' in page  # the number still links
        assert matter.number in page
        assert matter.title not in page
        assert matter.client.name not in page
    assert page.count(LOCKED) == 3
    assert internal.title in page and internal.client.name in page


def test_opening_a_locked_matter_answers_403_with_the_reason(client, course, bob, clock):
    matter = matters_for(bob, 1)[0]
    clock.move_to(LAPSED_AT)

    response = signed_in(client, bob).get(matter.get_absolute_url())

    assert response.status_code == 403
    assert "“Confidentiality duties” is overdue" in html.unescape(response.content.decode())


def test_an_unsigned_agreement_locks_the_list_with_the_way_to_sign(client, harriet, charlie, clock):
    document = make_policy_document("agreement", "Confidentiality agreement")
    version = services.publish_version(actor=harriet, document=document, text_en="en", text_zh="中", sign_by=DUE)
    matter = matters_for(charlie, 1)[0]
    clock.move_to(LAPSED_AT)

    page = text_of(signed_in(client, charlie).get(LIST_URL))

    assert "You have not signed the current “Confidentiality agreement”." in page
    assert f'href="{version.get_absolute_url()}" id="gate-remedy"' in page
    assert matter.title not in page


def test_a_compliant_lawyer_sees_titles_and_no_banner(client, course, bob, clock):
    matters = matters_for(bob, 2)
    pass_course(bob, course)
    clock.move_to(LAPSED_AT)

    page = text_of(signed_in(client, bob).get(LIST_URL))

    assert 'id="gate-banner"' not in page
    assert LOCKED not in page
    for matter in matters:
        assert matter.title in page and matter.client.name in page


def test_a_lawyer_whose_course_is_only_due_soon_still_sees_titles(client, course, bob):
    matter = matters_for(bob, 1)[0]

    page = text_of(signed_in(client, bob).get(LIST_URL))

    assert 'id="gate-banner"' not in page
    assert matter.title in page


def test_passing_the_course_unlocks_the_list_at_once(client, course, bob, clock):
    matter = matters_for(bob, 1)[0]
    clock.move_to(LAPSED_AT)
    client = signed_in(client, bob)
    assert matter.title not in text_of(client.get(LIST_URL))

    pass_course(bob, course)

    assert matter.title in text_of(client.get(LIST_URL))


def _queries_for_list(client) -> int:
    client.get(LIST_URL)  # warm-up: session bookkeeping on a first request is not the list's cost
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST_URL)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("lapsed", [True, False], ids=["lapsed", "compliant"])
def test_the_gate_adds_no_query_per_matter(client, settings, course, bob, clock, lapsed):
    settings.MATTERS_PAGE_SIZE = 50  # every matter is on the page
    if not lapsed:
        pass_course(bob, course)
    matters_for(bob, 3)
    clock.move_to(LAPSED_AT)
    client = signed_in(client, bob)
    three = _queries_for_list(client)
    assert text_of(client.get(LIST_URL)).count(LOCKED) == (3 if lapsed else 0)

    matters_for(bob, 17, prefix="MORE")
    twenty = _queries_for_list(client)

    assert text_of(client.get(LIST_URL)).count(LOCKED) == (20 if lapsed else 0)
    assert three == twenty
