"""The matter list: exactly the matters a person holds a live grant on, searchable and paged."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.models import GrantLevel
from matters.models import Classification, IdentifierType, MatterStatus, PartyRole, PracticeArea
from tests.factories import ClientFactory, MatterFactory, PartyFactory, grant

LIST_URL = reverse("matters:list")
# A bound the list must stay under whatever the data; the exact number is
# compared between runs below, this only catches a gross regression. 10 for the list, plus
# one for the training gate (asked once per page, never per matter) and one for the
# training panel at the top of the page (what the person still owes), and one for the ethical
# walls that screen the person (asked once per page).
MAX_LIST_QUERIES = 13


def numbers_on(response) -> list[str]:
    """The matter numbers a person sees in the list, in order."""
    assert response.status_code == 200
    page = response.content.decode()
    return re.findall(r'<a href="/matters/[0-9a-f-]{36}/">\s*([^<]+?)\s*</a>', page)


def count_text(response) -> str:
    match = re.search(r'id="matter-count">\s*([^<]+?)\s*<', response.content.decode())
    assert match, "the page shows no matter count"
    return match.group(1)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def expire(grant_row) -> None:
    """Make a grant lapse a minute ago (the service refuses to create one already expired)."""
    type(grant_row).objects.filter(pk=grant_row.pk).update(expires_at=timezone.now() - timedelta(minutes=1))


@pytest.fixture
def charlies_view(charlie, alice):
    """Charlie's mix: two direct grants, one through his team, one expired direct, one expired
    team grant, a grant that expires later today, and matters that belong to others."""
    team = Group.objects.create(name="Corporate team")
    other_team = Group.objects.create(name="Tax team")
    charlie.groups.add(team)
    direct_a = MatterFactory(number="COR-001")
    direct_b = MatterFactory(number="COR-002")
    via_team = MatterFactory(number="COR-003")
    expires_later = MatterFactory(number="COR-004")
    expired_direct = MatterFactory(number="COR-005")
    expired_team = MatterFactory(number="COR-006")
    others = MatterFactory(number="TAX-001")
    alices = MatterFactory(number="LIT-001")
    grant(charlie, direct_a, GrantLevel.VIEW)
    grant(charlie, direct_b, GrantLevel.MANAGE)
    grant(team, via_team, GrantLevel.DOWNLOAD)
    grant(charlie, expires_later, GrantLevel.VIEW, expires_at=timezone.now() + timedelta(hours=3))
    expire(grant(charlie, expired_direct, GrantLevel.EDIT, expires_at=timezone.now() + timedelta(days=1)))
    expire(grant(team, expired_team, GrantLevel.VIEW, expires_at=timezone.now() + timedelta(days=1)))
    grant(other_team, others, GrantLevel.MANAGE)
    grant(alice, alices, GrantLevel.MANAGE)
    return {"COR-001", "COR-002", "COR-003", "COR-004"}


def test_list_shows_exactly_the_matters_granted_directly_or_through_a_group(charlies_view, charlie, login):
    response = login(charlie).get(LIST_URL)

    assert set(numbers_on(response)) == charlies_view
    assert len(numbers_on(response)) == 4  # each once
    assert count_text(response) == "4 matters"


def test_a_matter_granted_both_directly_and_through_two_groups_is_listed_and_counted_once(charlie, login):
    matter = MatterFactory(number="DUP-001")
    first, second = Group.objects.create(name="Team one"), Group.objects.create(name="Team two")
    charlie.groups.add(first, second)
    grant(charlie, matter, GrantLevel.VIEW)
    grant(first, matter, GrantLevel.DOWNLOAD)
    grant(second, matter, GrantLevel.EDIT)

    response = login(charlie).get(LIST_URL)

    assert numbers_on(response) == ["DUP-001"]
    assert count_text(response) == "1 matter"


def test_someone_with_no_grant_sees_an_empty_list_and_is_told_how_to_get_access(matter, charlie, login):
    response = login(charlie).get(LIST_URL)

    assert numbers_on(response) == []
    assert count_text(response) == "0 matters"
    assert "You hold no grant on any matter yet" in text_of(response)
    assert matter.title not in text_of(response)


def test_roles_see_nothing_without_a_grant(matter, dana, adam, root, login):
    for person in (dana, adam, root):
        response = login(person).get(LIST_URL)
        assert numbers_on(response) == [], person.username
        assert matter.title not in text_of(response)


def test_a_grant_that_lapses_drops_the_matter_at_once(charlie, login):
    matter = MatterFactory(number="LAPSE-1")
    row = grant(charlie, matter, GrantLevel.VIEW, expires_at=timezone.now() + timedelta(hours=1))
    client = login(charlie)
    assert numbers_on(client.get(LIST_URL)) == ["LAPSE-1"]

    expire(row)  # no job has run: expiry alone must hide it

    assert numbers_on(client.get(LIST_URL)) == []


def test_leaving_the_team_removes_the_teams_matters(charlie, login):
    team = Group.objects.create(name="Deal team")
    charlie.groups.add(team)
    grant(team, MatterFactory(number="DEAL-1"), GrantLevel.VIEW)
    client = login(charlie)
    assert numbers_on(client.get(LIST_URL)) == ["DEAL-1"]

    charlie.groups.remove(team)

    assert numbers_on(client.get(LIST_URL)) == []


# --- search and filters --------------------------------------------------------------


@pytest.fixture
def searchable(charlie):
    """Five matters Charlie can see and one he cannot, with names and ID numbers to search for.

    Names and ID numbers are encrypted, so search matches them whole (through their blind
    indexes), never in part; titles are not searchable at all.
    """
    harbour = ClientFactory(name="Harbour Shipping Co.", id_type=IdentifierType.USCC, id_number="91310000MA1HARB01")
    lotus = ClientFactory(name="Lotus Biotech Ltd.")
    rows = [
        ("SRCH-101", "Charter party dispute", harbour, MatterStatus.OPEN, Classification.CONFIDENTIAL,
         PracticeArea.LITIGATION),
        ("SRCH-102", "Vessel financing", harbour, MatterStatus.CLOSED, Classification.INTERNAL, PracticeArea.FINANCE),
        ("SRCH-203", "Patent licence review", lotus, MatterStatus.OPEN, Classification.HIGHLY_CONFIDENTIAL,
         PracticeArea.IP),
        ("SRCH-204", "Employment dispute with founder", lotus, MatterStatus.ON_HOLD, Classification.CONFIDENTIAL,
         PracticeArea.EMPLOYMENT),
        ("SRCH-305", "Harbour lease", lotus, MatterStatus.OPEN, Classification.PUBLIC, PracticeArea.REAL_ESTATE),
    ]  # fmt: skip
    matters = {}
    for number, title, client, status, classification, area in rows:
        matters[number] = MatterFactory(
            number=number, title=title, client=client, status=status, classification=classification, practice_area=area
        )
        grant(charlie, matters[number], GrantLevel.VIEW)
    # Harbour is also the landlord in Lotus's lease: a party, not the client, of SRCH-305.
    PartyFactory(matter=matters["SRCH-305"], name="Harbour Shipping Co.", role=PartyRole.RELATED)
    PartyFactory(matter=matters["SRCH-203"], name="张 三", role=PartyRole.ADVERSE)
    PartyFactory(
        matter=matters["SRCH-204"],
        name="Chen Founder",
        role=PartyRole.ADVERSE,
        id_type=IdentifierType.ID_CARD,
        id_number="310101199001011234",
    )
    # Matches every search below, but Charlie holds no grant on it.
    hidden = MatterFactory(
        number="SRCH-999",
        title="Charter party dispute financing patent employment Harbour",
        client=harbour,
        status=MatterStatus.OPEN,
        classification=Classification.CONFIDENTIAL,
        practice_area=PracticeArea.LITIGATION,
    )
    for name, id_number in (("Lotus Biotech Ltd.", ""), ("张三", ""), ("Chen Founder", "310101199001011234")):
        PartyFactory(matter=hidden, name=name, id_number=id_number, id_type=IdentifierType.OTHER if id_number else "")


LOTUS = {"SRCH-203", "SRCH-204", "SRCH-305"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"q": "SRCH-10"}, {"SRCH-101", "SRCH-102"}, id="number-prefix"),
        pytest.param({"q": "srch-204"}, {"SRCH-204"}, id="number-any-case"),
        pytest.param({"q": "RCH-20"}, {"SRCH-203", "SRCH-204"}, id="number-middle"),
        pytest.param({"q": "lotus biotech ltd."}, LOTUS, id="client-full-name-any-case"),
        pytest.param({"q": "  Lotus   Biotech  Ltd.  "}, LOTUS, id="client-name-spaces-collapsed"),
        pytest.param({"q": "ＬＯＴＵＳ　ＢＩＯＴＥＣＨ　ＬＴＤ．"}, LOTUS, id="client-name-full-width"),
        # Harbour is the client of two matters and a party to a third.
        pytest.param({"q": "HARBOUR SHIPPING CO."}, {"SRCH-101", "SRCH-102", "SRCH-305"}, id="client-or-party-name"),
        pytest.param({"q": "张三"}, {"SRCH-203"}, id="party-chinese-name-without-space"),
        pytest.param({"q": "9131-0000-ma1harb01"}, {"SRCH-101", "SRCH-102"}, id="client-id-number-any-format"),
        pytest.param({"q": "3101 0119 9001 0112 34"}, {"SRCH-204"}, id="party-id-number"),
        # Exact match only: part of a name, or a word of a title, finds nothing.
        pytest.param({"q": "Lotus"}, set(), id="part-of-a-name-finds-nothing"),
        pytest.param({"q": "Shipping Co."}, set(), id="end-of-a-name-finds-nothing"),
        pytest.param({"q": "dispute"}, set(), id="title-word-finds-nothing"),
        pytest.param({"q": "Vessel financing"}, set(), id="whole-title-finds-nothing"),
        pytest.param({"q": "9131"}, set(), id="part-of-an-id-number-finds-nothing"),
        pytest.param({"q": "no such thing"}, set(), id="no-match"),
        pytest.param({"status": "open"}, {"SRCH-101", "SRCH-203", "SRCH-305"}, id="status"),
        pytest.param({"status": "on_hold"}, {"SRCH-204"}, id="status-on-hold"),
        pytest.param({"classification": "30"}, {"SRCH-101", "SRCH-204"}, id="classification"),
        pytest.param({"classification": "40"}, {"SRCH-203"}, id="classification-highly"),
        pytest.param({"practice_area": "finance"}, {"SRCH-102"}, id="practice-area"),
        pytest.param({"q": "Harbour Shipping Co.", "status": "open"}, {"SRCH-101", "SRCH-305"},
                     id="search-and-status"),
        pytest.param({"q": "Lotus Biotech Ltd.", "classification": "30", "practice_area": "employment"},
                     {"SRCH-204"}, id="search-classification-area"),
        pytest.param({"q": "Lotus Biotech Ltd.", "status": "closed"}, set(), id="search-and-status-nothing"),
        pytest.param({"q": "", "status": "", "classification": "", "practice_area": ""},
                     {"SRCH-101", "SRCH-102", "SRCH-203", "SRCH-204", "SRCH-305"}, id="all-empty"),
    ],
)  # fmt: skip
def test_search_and_filters_narrow_the_visible_matters(searchable, charlie, login, params, expected):
    response = login(charlie).get(LIST_URL, params)

    shown = numbers_on(response)
    assert set(shown) == expected
    assert len(shown) == len(expected)
    # The count is the number of matching matters Charlie may see, never the hidden SRCH-999.
    assert count_text(response) == (f"{len(expected)} matter" + ("" if len(expected) == 1 else "s"))


def test_a_filter_that_matches_nothing_says_so(searchable, charlie, login):
    response = login(charlie).get(LIST_URL, {"q": "no such thing"})

    assert "No matter you can see matches these filters." in text_of(response)


@pytest.mark.parametrize(
    ("params", "expected", "named_field"),
    [
        pytest.param({"status": "bogus"}, 5, "Status", id="status"),
        pytest.param({"classification": "secret"}, 5, "Classification", id="classification-not-a-number"),
        pytest.param({"classification": "99"}, 5, "Classification", id="classification-unknown"),
        pytest.param({"practice_area": "piracy"}, 5, "Practice area", id="practice-area"),
        # The valid filters still apply; only the one not understood is left out.
        pytest.param({"q": "Harbour Shipping Co.", "status": "bogus"}, 3, "Status", id="search-kept"),
        pytest.param({"status": "open", "practice_area": "piracy"}, 3, "Practice area", id="status-kept"),
    ],
)
def test_a_filter_value_not_understood_is_named_and_left_out(searchable, charlie, login, params, expected, named_field):
    response = login(charlie).get(LIST_URL, params)

    assert response.status_code == 200
    page = text_of(response)
    assert "Some filters were not understood and were left out:" in page
    assert f"{named_field}:" in page
    assert len(numbers_on(response)) == expected
    assert "SRCH-999" not in numbers_on(response)


def test_an_overlong_search_is_refused_with_a_message(searchable, charlie, login):
    response = login(charlie).get(LIST_URL, {"q": "x" * 500})

    assert response.status_code == 200
    assert "Some filters were not understood" in text_of(response)
    assert "SRCH-999" not in numbers_on(response)


# --- pagination ---------------------------------------------------------------------------


@pytest.fixture
def seven_matters(charlie, settings):
    settings.MATTERS_PAGE_SIZE = 5
    today = date(2026, 3, 1)
    numbers = [f"PAGE-{i}" for i in range(1, 8)]
    for age, number in enumerate(numbers):
        grant(charlie, MatterFactory(number=number, opened_on=today - timedelta(days=age)), GrantLevel.VIEW)
    return numbers  # newest first, the list's order


def test_the_first_page_holds_the_newest_matters_and_page_two_the_rest(seven_matters, charlie, login):
    client = login(charlie)

    first = client.get(LIST_URL)
    second = client.get(LIST_URL, {"page": 2})

    assert numbers_on(first) == seven_matters[:5]
    assert numbers_on(second) == seven_matters[5:]
    assert count_text(first) == count_text(second) == "7 matters"
    assert "Page 1 of 2" in text_of(first)
    assert "Page 2 of 2" in text_of(second)
    assert 'rel="next"' in text_of(first)
    assert 'rel="next"' not in text_of(second)


@pytest.mark.parametrize("page", ["99", "-1"])
def test_a_page_out_of_range_shows_the_last_page(seven_matters, charlie, login, page):
    response = login(charlie).get(LIST_URL, {"page": page})

    assert response.status_code == 200
    assert numbers_on(response) == seven_matters[5:]


def test_a_page_that_is_not_a_number_shows_the_first(seven_matters, charlie, login):
    response = login(charlie).get(LIST_URL, {"page": "two"})

    assert numbers_on(response) == seven_matters[:5]


def test_page_links_keep_the_search(seven_matters, charlie, login, settings):
    settings.MATTERS_PAGE_SIZE = 2
    response = login(charlie).get(LIST_URL, {"q": "PAGE", "status": "open"})

    assert count_text(response) == "7 matters"
    assert 'href="?q=PAGE&amp;status=open&amp;page=2"' in response.content.decode()


def test_the_count_is_of_matching_matters_not_of_the_page(seven_matters, charlie, login):
    """Count text and paging agree with the filter across pages."""
    MatterFactory(number="PAGE-HIDDEN")  # matches the search, not granted
    client = login(charlie)

    first = client.get(LIST_URL, {"q": "PAGE"})
    second = client.get(LIST_URL, {"q": "PAGE", "page": 2})

    assert count_text(first) == "7 matters"
    assert set(numbers_on(first)) | set(numbers_on(second)) == set(seven_matters)


# --- query count ------------------------------------------------------------------------------


def _queries_for_list(client, **params) -> int:
    client.get(LIST_URL, params)  # warm-up: session bookkeeping on a first request is not the list's cost
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST_URL, params)
    assert response.status_code == 200
    return len(captured)


def _grant_many(person, count: int, team: Group) -> None:
    """``count`` more matters for ``person``: half direct, half through ``team``."""
    for i in range(count):
        matter = MatterFactory(number=f"Q-{i:03d}", client=ClientFactory())
        grant(person if i % 2 else team, matter, GrantLevel.VIEW)


def test_the_list_runs_the_same_number_of_queries_for_one_grant_or_sixty(
    charlie, login, settings, django_assert_max_num_queries
):
    settings.MATTERS_PAGE_SIZE = 100  # every granted matter is rendered
    team = Group.objects.create(name="Big team")
    charlie.groups.add(team)
    grant(charlie, MatterFactory(number="Q-ONE"), GrantLevel.VIEW)
    client = login(charlie)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        client.get(LIST_URL)
    one = _queries_for_list(client)

    _grant_many(charlie, 59, team)
    assert len(numbers_on(client.get(LIST_URL))) == 60
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        client.get(LIST_URL)
    sixty = _queries_for_list(client)

    assert one == sixty


def test_the_list_runs_the_same_number_of_queries_for_any_page_size(
    charlie, login, settings, django_assert_max_num_queries
):
    team = Group.objects.create(name="Big team")
    charlie.groups.add(team)
    _grant_many(charlie, 60, team)
    client = login(charlie)

    settings.MATTERS_PAGE_SIZE = 5
    assert len(numbers_on(client.get(LIST_URL))) == 5
    small = _queries_for_list(client)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        client.get(LIST_URL, {"page": 2})

    settings.MATTERS_PAGE_SIZE = 50
    assert len(numbers_on(client.get(LIST_URL))) == 50
    large = _queries_for_list(client)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        client.get(LIST_URL, {"page": 2})

    assert small == large


def test_a_search_costs_no_more_queries_than_the_plain_list(charlie, login):
    team = Group.objects.create(name="Big team")
    charlie.groups.add(team)
    _grant_many(charlie, 30, team)
    client = login(charlie)

    plain = _queries_for_list(client)
    searched = _queries_for_list(client, q="Q-0", status="open", practice_area="litigation")

    assert searched == plain
