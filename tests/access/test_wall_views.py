"""The ethical wall pages: only the security officer and conflicts partners see them; bad input is a
form error with nothing written; the memo page gates an inclusionary wall's matter until acknowledged."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from access.models import EthicalWall, GrantLevel, MatterUserGrant, Role, WallAcknowledgement, WallKind
from access.wall_services import erect_wall, lift_wall
from audit.actions import AuditAction
from audit.models import AuditEvent
from matters.models import ConflictCheck
from tests.factories import ClientFactory, MatterFactory, UserFactory, enroll, grant

REASON = "Acme Holdings is suing Brightstar"
MEMO = "Do not discuss the Brightstar dispute."


@pytest.fixture
def connie(db):
    user = UserFactory(username="connie", first_name="Connie", last_name="Test", roles=(Role.CONFLICTS, Role.PARTNER))
    enroll(user)
    return user


@pytest.fixture
def wall(matter, charlie, dana):
    grant(charlie, matter, GrantLevel.VIEW)
    return erect_wall(
        actor=dana,
        kind=WallKind.EXCLUSIONARY,
        client=matter.client,
        matter=matter,
        people=[charlie],
        reason=REASON,
        memo=MEMO,
    )


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def form_data(**values) -> dict:
    return {"kind": WallKind.EXCLUSIONARY, "reason": REASON, "memo": MEMO, **values}


# --- Who sees the pages -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "bob", "adam", "root", "harriet"])
def test_everyone_but_the_security_officer_and_conflicts_partners_gets_not_found(request, persona, wall, login):
    browser = login(request.getfixturevalue(persona))

    for url in (
        reverse("access:wall_list"),
        reverse("access:wall_new"),
        reverse("access:wall_detail", args=[wall.pk]),
        reverse("access:wall_lift", args=[wall.pk]),
    ):
        assert browser.get(url).status_code == 404, url
        assert browser.post(url, form_data(matter_number=wall.matter.number)).status_code == 404, url
    assert EthicalWall.objects.get().is_live
    assert EthicalWall.objects.count() == 1


@pytest.mark.parametrize("persona", ["dana", "connie"])
def test_the_security_officer_and_conflicts_partners_see_the_pages(request, persona, wall, login):
    browser = login(request.getfixturevalue(persona))

    assert browser.get(reverse("access:wall_list")).status_code == 200
    assert browser.get(reverse("access:wall_new")).status_code == 200
    assert browser.get(reverse("access:wall_detail", args=[wall.pk])).status_code == 200
    assert browser.get(reverse("access:wall_lift", args=[wall.pk])).status_code == 405


def test_the_list_shows_walls_by_matter_number_and_client_code_only(matter, charlie, dana, login):
    client = ClientFactory(code="BRS-01", name="Brightstar Trading Ltd.")
    erect_wall(actor=dana, kind=WallKind.EXCLUSIONARY, client=matter.client, matter=matter, people=[charlie],
               reason=REASON, memo=MEMO)  # fmt: skip
    lifted = erect_wall(actor=dana, kind=WallKind.INCLUSIONARY, client=client, people=[charlie], reason=REASON,
                        memo=MEMO)  # fmt: skip
    lift_wall(actor=dana, wall=lifted, reason="over")
    browser = login(dana)

    live = text_of(browser.get(reverse("access:wall_list")))
    assert f"Matter {matter.number}" in live
    assert "BRS-01" not in live
    assert "In force" in live
    everything = text_of(browser.get(reverse("access:wall_list") + "?status=all"))
    assert "Every matter of client BRS-01" in everything and matter.number in everything
    only_lifted = text_of(browser.get(reverse("access:wall_list") + "?status=lifted"))
    assert "BRS-01" in only_lifted and matter.number not in only_lifted
    for page in (live, everything, only_lifted):
        assert "Brightstar" not in page and "Acme" not in page
        assert matter.title not in page and matter.client.name not in page


def test_the_list_takes_a_fixed_number_of_queries(matter, charlie, dana, login, django_assert_max_num_queries):
    for number in range(5):
        walled = MatterFactory(client=matter.client, number=f"2026-W-{number:05d}")
        erect_wall(actor=dana, kind=WallKind.EXCLUSIONARY, client=matter.client, matter=walled, people=[charlie],
                   reason=REASON, memo=MEMO)  # fmt: skip
    browser = login(dana)
    browser.get(reverse("access:wall_list"))

    with django_assert_max_num_queries(12):
        assert browser.get(reverse("access:wall_list")).status_code == 200


# --- Erecting through the page -------------------------------------------------------------------


def test_erecting_shows_the_detail_with_the_revoked_grants(matter, alice, charlie, dana, login):
    grant(charlie, matter, GrantLevel.EDIT)
    browser = login(dana)

    response = browser.post(
        reverse("access:wall_new"), form_data(matter_number=matter.number, people=[charlie.pk]), follow=True
    )

    wall = EthicalWall.objects.get()
    assert response.redirect_chain == [(reverse("access:wall_detail", args=[wall.pk]), 302)]
    page = text_of(response)
    assert "The wall is up: 1 grant was revoked." in page
    assert f"{matter.number} Charlie Test Edit" in page
    assert REASON in page and MEMO in page  # for the security officer
    assert "not yet" in page  # Charlie's acknowledgement
    assert (wall.kind, wall.matter, wall.client, wall.erected_by) == ("exclusionary", matter, matter.client, dana)
    assert not MatterUserGrant.objects.filter(user=charlie, content_object=matter).exists()


def test_a_client_code_walls_every_matter_of_the_client(matter, charlie, connie, login):
    group = Group.objects.create(name="Falcon team")
    group.user_set.add(charlie)

    login(connie).post(
        reverse("access:wall_new"),
        form_data(client_code=matter.client.code.lower(), groups=[group.pk], kind=WallKind.INCLUSIONARY),
    )

    wall = EthicalWall.objects.get()
    assert (wall.matter, wall.client, wall.kind) == (None, matter.client, "inclusionary")
    assert list(wall.members.values_list("group", flat=True)) == [group.pk]


def test_the_team_grant_of_a_screened_member_is_listed_as_blocked(matter, charlie, dana, login):
    litigation = Group.objects.create(name="Litigation team")
    litigation.user_set.add(charlie)
    grant(litigation, matter, GrantLevel.VIEW)

    response = login(dana).post(
        reverse("access:wall_new"), form_data(matter_number=matter.number, people=[charlie.pk]), follow=True
    )

    assert "blocked for 1 screened member" in text_of(response)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"matter_number": "2099-X-00000"}, "matter_number", "No matter has this number."),
        ({"matter_number": "", "client_code": "NOPE-99"}, "client_code", "No client has this code."),
        ({"matter_number": ""}, "matter_number", "Give a matter number or a client code."),
        ({"reason": " "}, "reason", "Say why the wall is needed."),
        ({"memo": ""}, "memo", "Write the memo the people named will receive."),
        ({"people": []}, None, "Name at least one person or team."),
        ({"kind": "sideways"}, "kind", "Select a valid choice."),
    ],
    ids=["unknown-number", "unknown-code", "no-scope", "blank-reason", "blank-memo", "no-members", "bad-kind"],
)
def test_bad_input_is_a_form_error_and_nothing_is_written(values, field, message, matter, charlie, dana, login):
    grant(charlie, matter, GrantLevel.VIEW)
    data = {**form_data(people=[charlie.pk], matter_number=matter.number), **values}

    response = login(dana).post(reverse("access:wall_new"), data)

    assert response.status_code == 200
    assert message in text_of(response)
    errors = response.context["form"].errors
    assert (field or "__all__") in errors
    assert not EthicalWall.objects.exists()
    assert MatterUserGrant.objects.filter(user=charlie, content_object=matter).exists()
    assert not AuditEvent.objects.filter(action__in=[AuditAction.WALL_ERECT, AuditAction.GRANT_REVOKE]).exists()


def test_a_matter_of_another_client_is_a_form_error(matter, charlie, dana, login):
    other = ClientFactory(code="OTH-01")

    response = login(dana).post(
        reverse("access:wall_new"),
        form_data(matter_number=matter.number, client_code=other.code, people=[charlie.pk]),
    )

    assert "This matter is not one of that client&#x27;s matters." in response.content.decode()
    assert "matter_number" in response.context["form"].errors
    assert not EthicalWall.objects.exists()


def test_the_form_is_filled_from_a_conflict_check(matter, charlie, dana, login):
    lateral = UserFactory(username="lara", first_name="Lara", last_name="Test")
    check = ConflictCheck.objects.create(
        person=lateral,
        hits=[
            {
                "matter_id": str(matter.pk),
                "matter_number": matter.number,
                "client_code": matter.client.code,
                "role": "client",
                "matched": "name",
                "searched": "prior client 1",
            }
        ],
    )

    page = login(dana).get(reverse("access:wall_new") + f"?check={check.pk}")

    form = page.context["form"]
    assert form.initial["matter_number"] == matter.number
    assert form.initial["people"] == [lateral.pk]
    assert form.initial["conflict_check"] == str(check.pk)
    assert f'value="{matter.number}"' in page.content.decode()
    assert f"Matter {matter.number} · client {matter.client.code} · Client" in text_of(page)

    login(dana).post(
        reverse("access:wall_new"),
        form_data(matter_number=matter.number, people=[lateral.pk], conflict_check=str(check.pk)),
    )
    assert EthicalWall.objects.get().conflict_check == check


def test_an_unknown_check_fills_nothing(dana, login):
    page = login(dana).get(reverse("access:wall_new") + "?check=not-a-uuid")

    assert page.status_code == 200
    assert "matter_number" not in page.context["form"].initial


def test_the_detail_shows_who_acknowledged_the_memo_team_members_included(matter, alice, bob, dana, login):
    core = Group.objects.create(name="Core team")
    core.user_set.add(bob)
    wall = erect_wall(
        actor=dana,
        kind=WallKind.INCLUSIONARY,
        client=matter.client,
        matter=matter,
        people=[alice],
        groups=[core],
        reason=REASON,
        memo=MEMO,
    )
    login(bob).post(reverse("access:wall_acknowledge", args=[wall.pk]))

    page = text_of(login(dana).get(reverse("access:wall_detail", args=[wall.pk])))

    assert "Alice Test (alice) not yet" in page
    assert "Team Core team" in page
    assert "Bob Test (bob) · acknowledged" in page


# --- Lifting through the page ----------------------------------------------------------------------


def test_lifting_needs_a_reason_and_the_error_is_shown_on_the_page(wall, dana, login):
    browser = login(dana)

    refused = browser.post(reverse("access:wall_lift", args=[wall.pk]), {"reason": "  "})
    assert refused.status_code == 200
    assert "Say why the wall is lifted." in text_of(refused)
    assert EthicalWall.objects.get().is_live

    lifted = browser.post(reverse("access:wall_lift", args=[wall.pk]), {"reason": "Settled."}, follow=True)
    page = text_of(lifted)
    assert "The wall was lifted." in page
    assert "Settled." in page
    assert not EthicalWall.objects.get().is_live


# --- The memo ------------------------------------------------------------------------------------------


def test_the_memo_page_is_for_the_people_the_wall_names(wall, charlie, bob, dana, login, client):
    url = reverse("access:wall_acknowledge", args=[wall.pk])

    assert MEMO in text_of(login(charlie).get(url))
    for outsider in (bob, dana):
        client.logout()
        assert login(outsider).get(url).status_code == 404
        assert login(outsider).post(url).status_code == 404
    assert not WallAcknowledgement.objects.exists()


def test_an_exclusionary_memo_is_acknowledged_and_leads_home(wall, charlie, login):
    response = login(charlie).post(reverse("access:wall_acknowledge", args=[wall.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert WallAcknowledgement.objects.filter(wall=wall, user=charlie).exists()


def test_an_inclusionary_wall_keeps_its_team_out_until_they_acknowledge(matter, bob, dana, login):
    wall = erect_wall(
        actor=dana,
        kind=WallKind.INCLUSIONARY,
        client=matter.client,
        matter=matter,
        people=[bob],
        reason=REASON,
        memo=MEMO,
        requires_acknowledgement=True,
    )
    browser = login(bob)
    memo_url = reverse("access:wall_acknowledge", args=[wall.pk])

    refused = browser.get(matter.get_absolute_url())
    assert refused.status_code == 403
    assert f'href="{memo_url}" id="remedy"' in refused.content.decode()

    memo = browser.get(memo_url)
    assert memo.status_code == 200 and MEMO in text_of(memo)
    acknowledged = browser.post(memo_url)
    assert acknowledged["Location"] == matter.get_absolute_url()
    assert browser.get(matter.get_absolute_url()).status_code == 200
    assert "You acknowledged this memo" in text_of(browser.get(memo_url))


def test_the_hit_chosen_on_the_check_fills_the_form_and_only_a_hit_can(matter, dana, login):
    """ "Propose a wall" on one hit of several proposes the wall around that hit's matter."""
    other = MatterFactory(client=matter.client)
    unrelated = MatterFactory()
    hit = {"client_code": matter.client.code, "role": "client", "matched": "name", "searched": "prior client 1"}
    check = ConflictCheck.objects.create(
        person=UserFactory(username="lara"),
        hits=[
            {**hit, "matter_id": str(matter.pk), "matter_number": matter.number},
            {**hit, "matter_id": str(other.pk), "matter_number": other.number},
        ],
    )
    new = reverse("access:wall_new")
    chosen = login(dana).get(f"{new}?check={check.pk}&matter={other.pk}").context["form"]
    assert chosen.initial["matter_number"] == other.number
    # A matter the check did not find is ignored: the page looks nothing up from the address.
    ignored = login(dana).get(f"{new}?check={check.pk}&matter={unrelated.pk}").context["form"]
    assert ignored.initial.get("matter_number") != unrelated.number
