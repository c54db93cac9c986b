"""A lateral hire's conflict check: HR records the person's prior clients and adversaries
(kept only as blind indexes), the same check runs over them, and the conflicts partner
proposes walls from the hits before the person receives any grant."""

from __future__ import annotations

import pytest
from django.urls import reverse

from access.models import Role
from audit.actions import AuditAction
from audit.models import AuditEvent
from matters import intake_services
from matters.intake_services import PriorEntry
from matters.models import ConflictCheck, ConflictStatus, IdentifierType, PartyRole, PriorEngagement
from tests.conftest import _persona, signed_in
from tests.factories import ClientFactory, MatterFactory, PartyFactory, UserFactory

HUAXIN = "Huaxin Technology Co., Ltd."
HUAXIN_USCC = "91310000MA1XYZ1234"
ORION = "Orion Semiconductor Ltd."


@pytest.fixture
def connie(db):
    return _persona("connie", "Connie", (Role.CONFLICTS, Role.PARTNER))


@pytest.fixture
def joiner(db):
    """Jun, a lawyer joining from another firm; no grant yet."""
    return UserFactory(username="jun", first_name="Jun", last_name="Lateral", roles=[Role.LAWYER])


@pytest.fixture
def firm(db):
    """Huaxin (C-0100) is a client in 2026-LIT-0001; Orion is the adverse party in 2026-LIT-0002."""
    huaxin = ClientFactory(code="C-0100", name=HUAXIN, id_type=IdentifierType.USCC, id_number=HUAXIN_USCC)
    first = MatterFactory(number="2026-LIT-0001", client=huaxin)
    second = MatterFactory(number="2026-LIT-0002", client=ClientFactory(code="C-0200"))
    PartyFactory(matter=second, name=ORION, role=PartyRole.ADVERSE)
    return first, second


def url(person):
    return reverse("matters:lateral_hire", args=[person.pk])


def rows(*entries):
    data = {"action": "record"}
    for n in range(1, 6):
        label, role, name, id_number = entries[n - 1] if n <= len(entries) else ("", "client", "", "")
        data |= {
            f"prior_{n}_label": label,
            f"prior_{n}_role": role,
            f"prior_{n}_name": name,
            f"prior_{n}_id_number": id_number,
        }
    return data


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "dana", "adam", "root"])
def test_only_hr_and_conflicts_partners_reach_the_page(client, request, who, joiner):
    user = request.getfixturevalue(who)
    signed_in(client, user)
    assert client.get(url(joiner)).status_code == 404
    assert client.post(url(joiner), rows(("prior client 1", "client", HUAXIN, ""))).status_code == 404
    assert not PriorEngagement.objects.exists()


def test_the_joiner_does_not_see_their_own_page(client, joiner):
    from tests.factories import enroll

    enroll(joiner)
    assert signed_in(client, joiner).get(url(joiner)).status_code == 404


def test_an_unknown_person_is_404(client, harriet):
    assert signed_in(client, harriet).get(reverse("matters:lateral_hire", args=[999999])).status_code == 404


def test_hr_records_prior_engagements_as_blind_indexes_only(client, harriet, joiner, firm):
    response = signed_in(client, harriet).post(
        url(joiner),
        rows(
            ("prior client 1", "client", "ＨＵＡＸＩＮ　ＴＥＣＨＮＯＬＯＧＹ　ＣＯ．，　ＬＴＤ．", ""),
            ("prior adversary 1", "adverse", "", "９１３１００００ＭＡ１ＸＹＺ１２３４"),
            ("prior adversary 2", "adverse", ORION, ""),
            ("prior client 2", "client", "Nobody we know", ""),
        ),
    )
    assert response.status_code == 302
    entries = list(PriorEngagement.objects.filter(person=joiner).order_by("pk"))
    assert [(e.label, e.role, bool(e.name_index), bool(e.id_number_index)) for e in entries] == [
        ("prior client 1", "client", True, False),
        ("prior adversary 1", "adverse", False, True),
        ("prior adversary 2", "adverse", True, False),
        ("prior client 2", "client", True, False),
    ]
    for entry in entries:
        assert HUAXIN.lower() not in str(vars(entry)).lower() and "Nobody" not in str(vars(entry))
    check = ConflictCheck.objects.get(person=joiner)
    assert (check.status, check.run_by, check.matter) == (ConflictStatus.PENDING, harriet, None)
    assert sorted((h["searched"], h["matter_number"], h["role"], h["matched"]) for h in check.hits) == [
        ("prior adversary 1", "2026-LIT-0001", "client", "identifier"),
        ("prior adversary 2", "2026-LIT-0002", "adverse", "name"),
        ("prior client 1", "2026-LIT-0001", "client", "name"),
    ]


def test_hr_is_not_told_what_the_check_found_nor_whether_it_found_anything(client, harriet, joiner, firm):
    """Otherwise HR could type any name and learn whether the firm acts for or against it."""
    signed_in(client, harriet)
    found = client.post(url(joiner), rows(("prior client 1", "client", HUAXIN, "")), follow=True).content.decode()
    other = UserFactory(username="kai", roles=[Role.LAWYER])
    nothing = client.post(url(other), rows(("prior client 1", "client", "Nobody Ltd.", "")), follow=True)
    for html in (found, nothing.content.decode()):
        assert "The conflicts team reviews the result" in html
        assert "2026-LIT-0001" not in html and "C-0100" not in html and "no conflict" not in html
        assert "Awaiting the conflicts partner" not in html and "Cleared" not in html and "check-" not in html
    assert HUAXIN not in found and "Propose a wall" not in found


def test_the_conflicts_partner_sees_the_hits_by_number_and_code_only(client, connie, harriet, joiner, firm):
    signed_in(client, harriet).post(url(joiner), rows(("prior client 1", "client", HUAXIN, "")))
    html = signed_in(client, connie).get(url(joiner)).content.decode()
    assert "2026-LIT-0001" in html and "C-0100" in html and "prior client 1" in html
    assert HUAXIN not in html and "Confidential matter title" not in html


def test_the_conflicts_partner_proposes_walls_from_the_hits(client, connie, joiner, firm):
    intake_services.record_prior_engagements(
        actor=connie, person=joiner, entries=[PriorEntry("prior adversary 1", PartyRole.ADVERSE, ORION)]
    )
    check = ConflictCheck.objects.get(person=joiner)
    html = signed_in(client, connie).get(url(joiner)).content.decode()
    assert html.count("Propose a wall") == 1
    assert f"{reverse('access:wall_new')}?check={check.pk}" in html


def test_the_check_is_recorded_without_names(client, harriet, joiner, firm):
    signed_in(client, harriet).post(url(joiner), rows(("prior client 1", "client", HUAXIN, HUAXIN_USCC)))
    event = AuditEvent.objects.get(action=AuditAction.CONFLICT_CHECK)
    check = ConflictCheck.objects.get(person=joiner)
    assert event.record["detail"] == {
        "check_id": str(check.pk), "person_id": joiner.pk, "person": "jun", "entries": 1, "hits": 1,
    }  # fmt: skip
    payloads = "".join(bytes(e.payload).decode() for e in AuditEvent.objects.all())
    assert HUAXIN not in payloads and HUAXIN_USCC not in payloads


def test_no_hit_clears_at_once(client, harriet, joiner, firm):
    signed_in(client, harriet).post(url(joiner), rows(("prior client 1", "client", "Huaxin Technology", "")))
    check = ConflictCheck.objects.get(person=joiner)
    assert (check.status, check.hits) == (ConflictStatus.CLEARED, [])


def test_a_person_has_one_pending_check_and_a_new_run_replaces_its_hits(harriet, joiner, firm):
    record = intake_services.record_prior_engagements
    first = record(actor=harriet, person=joiner, entries=[PriorEntry("prior client 1", PartyRole.CLIENT, HUAXIN)])
    second = record(actor=harriet, person=joiner, entries=[PriorEntry("prior adversary 1", PartyRole.ADVERSE, ORION)])
    assert first.pk == second.pk
    assert ConflictCheck.objects.filter(person=joiner).count() == 1
    assert sorted(h["matter_number"] for h in second.hits) == ["2026-LIT-0001", "2026-LIT-0002"]
    # A new matter of a prior client is found when the check runs again.
    MatterFactory(number="2026-COR-0009", client=firm[0].client)
    again = intake_services.run_lateral_check(actor=harriet, person=joiner)
    assert again.pk == first.pk and len(again.hits) == 3


def test_removing_an_entry_checks_again(client, harriet, joiner, firm):
    signed_in(client, harriet).post(url(joiner), rows(("prior client 1", "client", HUAXIN, "")))
    entry = PriorEngagement.objects.get(person=joiner)
    response = client.post(url(joiner), {"action": "remove", "engagement": entry.pk})
    assert response.status_code == 302
    assert not PriorEngagement.objects.exists()
    assert ConflictCheck.objects.get(person=joiner).status == ConflictStatus.CLEARED


def test_someone_elses_entry_cannot_be_removed_through_this_page(client, harriet, joiner, firm):
    other = UserFactory(username="other")
    intake_services.record_prior_engagements(
        actor=harriet, person=other, entries=[PriorEntry("prior client 1", PartyRole.CLIENT, HUAXIN)]
    )
    entry = PriorEngagement.objects.get(person=other)
    assert signed_in(client, harriet).post(url(joiner), {"action": "remove", "engagement": entry.pk}).status_code == 404
    assert PriorEngagement.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (("", "client", HUAXIN, ""), "Give the entry a label"),
        (("prior client 1", "client", "", ""), "Enter a name or an identifier."),
        (("prior client 1", "boss", HUAXIN, ""), "Select a valid choice"),
    ],
)
def test_bad_rows_are_form_errors_and_nothing_is_kept(client, harriet, joiner, firm, entry, message):
    response = signed_in(client, harriet).post(url(joiner), rows(entry))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PriorEngagement.objects.exists() and not ConflictCheck.objects.exists()


def test_an_empty_form_says_so(client, harriet, joiner):
    response = signed_in(client, harriet).post(url(joiner), rows())
    assert response.status_code == 200 and "Fill in at least one row." in response.content.decode()


def test_the_conflicts_partner_marks_the_check_decided(client, connie, harriet, joiner, firm):
    intake_services.record_prior_engagements(
        actor=harriet, person=joiner, entries=[PriorEntry("prior client 1", PartyRole.CLIENT, HUAXIN)]
    )
    # HR may not decide it.
    signed_in(client, harriet).post(url(joiner), {"action": "decide", "note": "fine"})
    assert ConflictCheck.objects.get(person=joiner).status == ConflictStatus.PENDING
    response = signed_in(client, connie).post(url(joiner), {"action": "decide", "note": "walled from C-0100"})
    assert response.status_code == 302
    check = ConflictCheck.objects.get(person=joiner)
    assert (check.status, check.decided_by) == (ConflictStatus.CLEARED, connie)
    decided = AuditEvent.objects.get(action=AuditAction.CONFLICT_DECIDE)
    assert decided.record["detail"]["decision"] == "cleared" and "walled from" not in bytes(decided.payload).decode()


def test_the_queue_lists_a_pending_lateral_check(client, connie, harriet, joiner, firm):
    intake_services.record_prior_engagements(
        actor=harriet, person=joiner, entries=[PriorEntry("prior client 1", PartyRole.CLIENT, HUAXIN)]
    )
    html = signed_in(client, connie).get(reverse("matters:conflict_queue")).content.decode()
    assert url(joiner) in html and "Jun Lateral" in html


def test_a_lateral_check_is_not_decided_as_a_matters(client, connie, harriet, joiner, firm):
    check = intake_services.record_prior_engagements(
        actor=harriet, person=joiner, entries=[PriorEntry("prior client 1", PartyRole.CLIENT, HUAXIN)]
    )
    detail = reverse("matters:conflict_detail", args=[check.pk])
    assert signed_in(client, connie).get(detail).status_code == 404


# --- the pending check screens the joiner, however access would reach them ----------------------


@pytest.fixture
def team_of_joiner(joiner, firm):
    """The litigation team, which holds a grant on both of the firm's matters; Jun joins it."""
    from django.contrib.auth.models import Group

    from tests.factories import grant

    team = Group.objects.create(name="Litigation team")
    for matter in firm:
        grant(team, matter)
    joiner.groups.add(team)
    return team


def test_a_pending_check_screens_the_joiner_from_every_matter_of_the_clients_found(
    client, harriet, joiner, firm, team_of_joiner
):
    from access.policy import Action, can, count_visible_matters, visible_matters
    from tests.factories import grant

    later = MatterFactory(number="2026-COR-0009", client=firm[0].client)
    grant(team_of_joiner, later)
    intake_services.record_prior_engagements(
        actor=harriet, person=joiner, entries=[PriorEntry("prior client 1", PartyRole.CLIENT, HUAXIN)]
    )
    # Huaxin's two matters are out of reach through the team's grants; the other client's is not.
    assert set(visible_matters(joiner)) == {firm[1]}
    assert count_visible_matters(joiner) == 1
    assert not can(joiner, Action.VIEW, later)
    assert signed_in(client, joiner).get(reverse("matters:detail", args=[firm[0].pk])).status_code == 404
    assert client.get(reverse("matters:detail", args=[firm[1].pk])).status_code == 200


def test_the_screen_ends_when_the_conflicts_partner_decides(client, connie, harriet, joiner, firm, team_of_joiner):
    from access.policy import Action, can

    check = intake_services.record_prior_engagements(
        actor=harriet, person=joiner, entries=[PriorEntry("prior client 1", PartyRole.CLIENT, HUAXIN)]
    )
    assert not can(joiner, Action.VIEW, firm[0])
    intake_services.decide_lateral_check(actor=connie, check=check, note="no conflict: different business")
    assert can(joiner, Action.VIEW, firm[0])


def test_the_screen_follows_the_check_when_it_runs_again(client, harriet, joiner, firm, team_of_joiner):
    from access.policy import Action, can

    intake_services.record_prior_engagements(
        actor=harriet, person=joiner, entries=[PriorEntry("prior client 1", PartyRole.CLIENT, HUAXIN)]
    )
    intake_services.record_prior_engagements(
        actor=harriet, person=joiner, entries=[PriorEntry("prior adversary 1", PartyRole.ADVERSE, ORION)]
    )
    # Both entries now: both clients screened.
    assert not can(joiner, Action.VIEW, firm[0]) and not can(joiner, Action.VIEW, firm[1])
    huaxin = PriorEngagement.objects.get(person=joiner, label="prior client 1")
    intake_services.remove_prior_engagement(actor=harriet, engagement=huaxin)
    assert can(joiner, Action.VIEW, firm[0]) and not can(joiner, Action.VIEW, firm[1])


def test_the_joiners_attempt_is_recorded_as_screened(client, harriet, joiner, firm, team_of_joiner):
    """Recorded as a wall's refusal, which detection raises as a wall-breach alert."""
    intake_services.record_prior_engagements(
        actor=harriet, person=joiner, entries=[PriorEntry("prior client 1", PartyRole.CLIENT, HUAXIN)]
    )
    signed_in(client, joiner).get(reverse("matters:detail", args=[firm[0].pk]))
    denied = AuditEvent.objects.get(action=AuditAction.MATTER_VIEW, actor=joiner)
    assert denied.record["detail"] == {"screened": True}


def test_a_joiner_named_responsible_partner_while_screened_gets_no_founding_grant(connie, harriet, firm):
    """Clearing still works: the founding grants skip the person their own pending check screens."""
    from access.models import MatterUserGrant
    from access.policy import Action, can

    partner = UserFactory(username="pat", roles=[Role.PARTNER, Role.LAWYER])
    lawyer = UserFactory(username="lee", roles=[Role.LAWYER])
    intake_services.record_prior_engagements(
        actor=harriet, person=partner, entries=[PriorEntry("prior client 1", PartyRole.CLIENT, HUAXIN)]
    )
    check = intake_services.open_matter(
        actor=lawyer, title="Huaxin — new work", practice_area="corporate", classification=20,
        responsible_partner=partner, client=firm[0].client,
    )  # fmt: skip
    intake_services.decide_check(actor=connie, check=check, decision=intake_services.Decision.CLEAR)

    matter = check.matter
    assert set(MatterUserGrant.objects.filter(content_object=matter).values_list("user__username", flat=True)) == {
        "lee"
    }
    assert can(lawyer, Action.VIEW, matter) and not can(partner, Action.VIEW, matter)
