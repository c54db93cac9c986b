"""The security officer's review screen: filters, keyset paging, timelines, event detail.

Only Dana (the reviewer group, second factor verified) reaches any of it; she
sees who did what to which matter number, and never a matter's contents.
"""

from __future__ import annotations

import datetime
import html
import json
import re
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import User
from audit.actions import AuditAction, Outcome
from audit.chain import chain_pending_events
from audit.events import fingerprint, record_event
from audit.models import AuditEvent
from tests.conftest import signed_in
from tests.factories import ClientFactory, MatterFactory, PartyFactory, make_document

EVENTS_URL = reverse("audit:events")
LOCAL = zoneinfo.ZoneInfo("Asia/Shanghai")

# Client information that must never reach the review screens.
SECRETS = ("Operation Bluefin", "Marlin Holdings", "Tuna Fisheries Cooperative", "Valuation model for the board")


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2024, 3, day, hour, minute, tzinfo=LOCAL)


def from_ip(address: str):
    return RequestFactory().get("/", REMOTE_ADDR=address, HTTP_USER_AGENT="pytest-browser")


def record_at(when: datetime.datetime, action, **kwargs) -> AuditEvent:
    with time_machine.travel(when, tick=False):
        return record_event(action, **kwargs)


def event_ids(response) -> list[int]:
    """The events listed on a review page, in order."""
    assert response.status_code == 200, response.status_code
    return [int(value) for value in re.findall(r'data-event="(\d+)"', response.content.decode())]


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def bluefin(matter, alice):
    """Alice's matter, given contents the review screens must never show."""
    matter.title = "Operation Bluefin"
    matter.save()
    matter.client.name = "Marlin Holdings"
    matter.client.save()
    PartyFactory(matter=matter, name="Tuna Fisheries Cooperative")
    matter.document = make_document(matter, title="Valuation model for the board", uploader=alice)
    return matter


@pytest.fixture
def seeded(bluefin, alice, bob, charlie):
    """A week of events; each test picks those its filters must find."""
    other = MatterFactory(client=ClientFactory(code="OTHER-CL"))
    events = {
        "alice_view": record_at(
            at(1, 9), AuditAction.MATTER_VIEW, actor=alice, target=bluefin, request=from_ip("10.1.2.3")
        ),
        "bob_download": record_at(
            at(2, 10), AuditAction.DOCUMENT_DOWNLOAD, actor=bob, target=bluefin.document, request=from_ip("10.1.9.9")
        ),
        "charlie_denied": record_at(
            at(3, 23),
            AuditAction.MATTER_VIEW,
            actor=charlie,
            target=bluefin,
            outcome=Outcome.DENIED,
            reason="no grant on this matter",
            request=from_ip("192.0.2.50"),
        ),
        "alice_other": record_at(
            at(4, 11), AuditAction.MATTER_VIEW, actor=alice, target=other, request=from_ip("10.2.0.1")
        ),
        "mallory_failed": record_at(
            at(5, 3),
            AuditAction.SIGN_IN_FAILED,
            actor=None,
            outcome=Outcome.FAILURE,
            detail={"username": "mallory"},
            request=from_ip("203.0.113.9"),
        ),
        "alice_search": record_at(
            at(6, 15),
            AuditAction.MATTER_SEARCH,
            actor=alice,
            detail={"term": fingerprint("Bluefin"), "results": 1},
            request=from_ip("10.1.2.3"),
        ),
    }
    events["other"] = other
    return events


def ids_of(seeded, *names) -> set[int]:
    return {seeded[name].pk for name in names}


# The seeded week: the fixtures' own events (grants, uploads) happen now, outside it.
SEEDED_WEEK = {"since": "2024-03-01T00:00", "until": "2024-03-07T00:00"}


def review(client, dana, params: dict, url: str = EVENTS_URL) -> list[int]:
    return event_ids(signed_in(client, dana).get(url, {**SEEDED_WEEK, **params}))


# --- filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"person": "alice"}, ("alice_view", "alice_other", "alice_search")),
        ({"matter": "<bluefin>"}, ("alice_view", "bob_download", "charlie_denied")),
        ({"client": "OTHER-CL"}, ("alice_other",)),
        ({"action": AuditAction.MATTER_VIEW}, ("alice_view", "charlie_denied", "alice_other")),
        ({"outcome": Outcome.DENIED}, ("charlie_denied",)),
        ({"outcome": Outcome.FAILURE}, ("mallory_failed",)),
        ({"ip": "10.1.2.3"}, ("alice_view", "alice_search")),
        ({"ip": "10.1.0.0/16"}, ("alice_view", "bob_download", "alice_search")),
        ({"since": "2024-03-02T10:00", "until": "2024-03-04T11:00"}, ("bob_download", "charlie_denied", "alice_other")),
        ({"term": "  bluefin "}, ("alice_search",)),
        ({"person": "alice", "action": AuditAction.MATTER_VIEW, "matter": "<bluefin>"}, ("alice_view",)),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, dict) else None,
)
def test_dana_sees_exactly_the_events_her_filters_match(client, dana, seeded, bluefin, params, expected):
    params = {key: bluefin.number if value == "<bluefin>" else value for key, value in params.items()}
    shown = review(client, dana, params)
    assert set(shown) == ids_of(seeded, *expected)
    assert shown == sorted(shown, reverse=True), "newest first"


def test_without_filters_every_event_is_listed_newest_first(client, dana, seeded):
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    shown = event_ids(signed_in(client, dana).get(EVENTS_URL))
    everything = ids_of(seeded, "alice_view", "bob_download", "charlie_denied", "alice_other", "mallory_failed")
    assert everything | ids_of(seeded, "alice_search") <= set(shown)
    assert set(shown) == before, "everything recorded before the page was asked for"
    assert shown == sorted(shown, reverse=True)


def test_the_list_shows_who_what_which_matter_and_from_where(client, dana, seeded, bluefin):
    page = text_of(signed_in(client, dana).get(EVENTS_URL, {"outcome": Outcome.DENIED}))
    assert "charlie" in page
    assert "Viewed matter" in page
    assert "Denied" in page
    assert bluefin.number in page
    assert bluefin.client.code in page
    assert "192.0.2.50" in page
    assert "no grant on this matter" in page
    assert "2024-03-03 23:00:00" in page, "times are shown in the local time zone"
    assert reverse("audit:person_timeline", args=[seeded["charlie_denied"].actor_id]) in page
    assert reverse("audit:matter_timeline", args=[bluefin.pk]) in page


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"person": "nobody"}, "No person has this username."),
        ({"matter": "NO-SUCH-MATTER"}, "No matter has this number."),
        ({"client": "NO-SUCH-CLIENT"}, "No client has this code."),
        ({"action": "matter.eat"}, "is not one of the choices"),
        ({"outcome": "maybe"}, "is not one of the choices"),
        ({"ip": "10.1.2.300"}, "This is not an IP address or network."),
        ({"since": "yesterday-ish"}, "Enter a valid date/time."),
        ({"since": "2024-03-05T00:00", "until": "2024-03-01T00:00"}, "“Until” is before “From”."),
        ({"before": "not-a-number", "after": "-3"}, None),
    ],
)
def test_a_filter_that_cannot_be_used_is_named_and_the_others_still_apply(client, dana, seeded, params, named):
    query = {**SEEDED_WEEK, **params, "outcome": params.get("outcome", "denied")}
    response = signed_in(client, dana).get(EVENTS_URL, query)
    assert response.status_code == 200
    if named:
        assert named in text_of(response)
    if "outcome" not in params:
        assert set(event_ids(response)) <= ids_of(seeded, "charlie_denied")


# --- keyset paging --------------------------------------------------------------------------------


def _follow(client, url: str, rel: str, cursor: str) -> tuple[list[list[int]], str]:
    """The pages from ``url`` following the ``rel`` link to its end; and the last page's URL."""
    pages = []
    while True:
        response = client.get(url)
        pages.append(event_ids(response))
        found = re.search(rf'href="\?([^"]*{cursor}=\d+)" rel="{rel}"', response.content.decode())
        if not found:
            return pages, url
        url = f"{EVENTS_URL}?{html.unescape(found.group(1))}"


def test_paging_older_and_newer_shows_each_event_exactly_once(client, dana, alice, matter):
    made = [record_event(AuditAction.MATTER_VIEW, actor=alice, target=matter).pk for _ in range(123)]
    newest_first = sorted(made, reverse=True)
    signed_in(client, dana)
    pages, last_url = _follow(client, f"{EVENTS_URL}?person=alice", "next", "before")
    assert [len(page) for page in pages] == [50, 50, 23]
    assert [event for page in pages for event in page] == newest_first, "every event once, newest first"
    # And back up from the oldest page: "Newer" walks to the newest without a gap or a repeat.
    pages, _url = _follow(client, last_url, "prev", "after")
    assert [len(page) for page in pages] == [23, 50, 50]
    assert [event for page in reversed(pages) for event in page] == newest_first


def test_the_list_pages_without_counting_the_event_table(client, dana, alice, matter):
    for _ in range(60):
        record_event(AuditAction.MATTER_VIEW, actor=alice, target=matter)
    signed_in(client, dana)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(EVENTS_URL, {"person": "alice"})
    assert len(event_ids(response)) == 50
    statements = [query["sql"] for query in queries.captured_queries if "audit_event" in query["sql"]]
    assert statements
    assert not [sql for sql in statements if "COUNT(" in sql.upper() or "OFFSET" in sql.upper()]
    assert len(queries.captured_queries) < 25


# --- timelines -------------------------------------------------------------------------------------


def test_a_persons_timeline_has_all_their_events_and_takes_filters(client, dana, alice, seeded):
    url = reverse("audit:person_timeline", args=[alice.pk])
    assert set(review(client, dana, {}, url)) == ids_of(seeded, "alice_view", "alice_other", "alice_search")
    assert set(review(client, dana, {"action": AuditAction.MATTER_SEARCH}, url)) == ids_of(seeded, "alice_search")
    assert set(event_ids(client.get(url))) > ids_of(seeded, "alice_view", "alice_other", "alice_search")
    page = text_of(client.get(url))
    assert "Timeline of alice" in page
    assert f"person_id={alice.pk}" in page, "the export links keep the person"


def test_a_matters_timeline_has_everyone_who_reached_it(client, dana, bluefin, seeded):
    url = reverse("audit:matter_timeline", args=[bluefin.pk])
    assert set(review(client, dana, {}, url)) == ids_of(seeded, "alice_view", "bob_download", "charlie_denied")
    assert set(review(client, dana, {"outcome": "denied"}, url)) == ids_of(seeded, "charlie_denied")
    everything = set(event_ids(client.get(url)))
    assert everything == set(AuditEvent.objects.filter(matter_id=bluefin.pk).values_list("pk", flat=True))
    page = text_of(client.get(url))
    assert f"Timeline of matter {bluefin.number}" in page
    assert f"matter_id={bluefin.pk}" in page


def test_a_departed_account_still_has_its_timeline(client, dana, alice, matter):
    ghost = User.objects.create(username="ghost")
    event = record_event(AuditAction.MATTER_VIEW, actor=ghost, target=matter)
    ghost_id = ghost.pk
    ghost.groups.clear()
    User.objects.filter(pk=ghost_id).delete()
    response = signed_in(client, dana).get(reverse("audit:person_timeline", args=[ghost_id]))
    assert event_ids(response) == [event.pk]
    assert "Timeline of ghost" in text_of(response)


def test_a_timeline_of_nobody_is_not_found(client, dana):
    signed_in(client, dana)
    assert client.get(reverse("audit:person_timeline", args=[987654])).status_code == 404
    assert (
        client.get(reverse("audit:matter_timeline", args=["6f1c1d2e-0000-4000-8000-000000000000"])).status_code == 404
    )


# --- event detail -------------------------------------------------------------------------------------


def test_the_event_page_shows_every_recorded_field_and_its_place_in_the_chain(client, dana, seeded, bluefin):
    event = seeded["charlie_denied"]
    url = reverse("audit:event_detail", args=[event.pk])
    signed_in(client, dana)
    page = text_of(client.get(url))
    assert "Awaiting chaining" in page
    for key, value in event.record.items():
        if value not in (None, "", {}):
            assert str(value) in page, f"{key} is not shown"
    assert bytes(event.payload).decode() in page, "the recorded bytes, exactly"

    chain_pending_events(now=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1))
    page = text_of(client.get(url))
    link = AuditEvent.objects.get(pk=event.pk).link
    assert "Awaiting chaining" not in page
    assert bytes(link.hash).hex() in page
    assert f"<dd>{link.seq}</dd>" in page


def test_an_unknown_event_is_not_found(client, dana):
    assert signed_in(client, dana).get(reverse("audit:event_detail", args=[99999999])).status_code == 404


# --- what the security officer sees, and what her review leaves behind ---------------------------


def test_review_pages_show_the_matter_number_but_never_its_contents(client, dana, seeded, bluefin, alice):
    signed_in(client, dana)
    urls = [
        EVENTS_URL,
        f"{EVENTS_URL}?matter={bluefin.number}",
        reverse("audit:person_timeline", args=[alice.pk]),
        reverse("audit:matter_timeline", args=[bluefin.pk]),
        reverse("audit:event_detail", args=[seeded["bob_download"].pk]),
        reverse("audit:event_detail", args=[seeded["alice_view"].pk]),
    ]
    for url in urls:
        page = text_of(client.get(url))
        assert bluefin.number in page, url
        for secret in SECRETS:
            assert secret not in page, f"{secret!r} at {url}"


def test_reviewing_is_recorded_with_the_filters_and_never_the_search_term(client, dana, seeded, bluefin):
    signed_in(client, dana).get(EVENTS_URL, {"matter": bluefin.number, "term": "Bluefin", "outcome": "denied"})
    review_event = AuditEvent.objects.filter(action=AuditAction.AUDIT_VIEW).get()
    record = review_event.record
    assert record["actor"] == "dana"
    filters = record["detail"]["filters"]
    assert filters["matter_id"] == str(bluefin.pk)
    assert filters["matter_number"] == bluefin.number
    assert filters["outcome"] == "denied"
    assert filters["term"] == fingerprint("bluefin")
    assert "bluefin" not in json.dumps(record).casefold()


def test_an_event_page_visit_is_recorded(client, dana, seeded):
    event = seeded["alice_view"]
    signed_in(client, dana).get(reverse("audit:event_detail", args=[event.pk]))
    review_event = AuditEvent.objects.filter(action=AuditAction.AUDIT_VIEW).get()
    assert review_event.record["detail"] == {"view": "event_detail", "event": event.pk}


def test_only_the_security_officer_has_audit_in_her_navigation(client, dana, alice, adam, root):
    assert reverse("audit:events") in signed_in(client, dana).get(reverse("access:security")).content.decode()
    # Alerts, the chain and the thresholds are reached through the audit section's own navigation.
    assert reverse("audit:alerts") in client.get(reverse("audit:events")).content.decode()
    for person in (alice, adam, root):
        page = signed_in(client, person).get(reverse("access:security")).content.decode()
        assert reverse("audit:events") not in page, person.username


PARAMETERLESS = ("audit:events", "audit:export", "audit:chain", "audit:checkpoints_file", "audit:alerts",
                 "audit:detection_settings")  # fmt: skip


@pytest.mark.parametrize("name", ["alice", "bob", "charlie", "adam", "root"])
def test_everyone_but_the_security_officer_gets_404_on_every_audit_page(client, name, request, matter):
    person = request.getfixturevalue(name)
    signed_in(client, person)
    for url_name in PARAMETERLESS:
        assert client.get(reverse(url_name)).status_code == 404, url_name
        assert client.post(reverse(url_name)).status_code == 404, url_name
    assert client.post(reverse("audit:verify")).status_code == 404
    assert client.get(reverse("audit:verify")).status_code == 404
    assert client.get(reverse("audit:export"), {"format": "csv"}).status_code == 404
    # Nothing was exported, verified or reviewed: each attempt is on record as refused.
    attempts = AuditEvent.objects.filter(action__startswith="audit.")
    assert set(attempts.values_list("action", "outcome")) == {(AuditAction.AUDIT_VIEW, "denied")}


def test_a_security_officer_without_her_second_factor_is_not_let_in(client, dana):
    client.force_login(dana)
    assert client.get(EVENTS_URL).status_code in (302, 404)


def test_the_review_screen_speaks_chinese(client, dana, seeded):
    signed_in(client, dana)
    response = client.get(EVENTS_URL, headers={"accept-language": "zh-hans"})
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()
    response = client.get(reverse("audit:chain"), headers={"accept-language": "zh-hans"})
    assert response.status_code == 200


def test_a_lawyer_reaching_for_the_audit_trail_is_refused_and_that_is_recorded(client, charlie):
    assert signed_in(client, charlie).get(reverse("audit:events")).status_code == 404
    refusal = AuditEvent.objects.filter(action=AuditAction.AUDIT_VIEW, actor=charlie).get()
    assert refusal.outcome == "denied"
    assert refusal.record["reason"] == "Only the security officer reviews the audit trail."
    assert refusal.record["detail"] == {"path": reverse("audit:events")}
