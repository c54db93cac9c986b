"""Opening a matter at intake, its conflict check, and the conflicts partner's decision.

Bob (lawyer) opens matters; Connie is the conflicts partner; Alice (partner) is responsible
for the new matter. The pages name matters by number and client code only.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from access.models import GrantLevel, MatterUserGrant, Notification, NotificationKind, Role, WallKind
from access.wall_services import erect_wall
from audit.actions import AuditAction
from audit.models import AuditEvent
from matters import intake_services
from matters.models import (
    Classification,
    Client,
    ConflictCheck,
    ConflictStatus,
    IdentifierType,
    Matter,
    MatterStatus,
    PartyRole,
)
from tests.conftest import _persona, signed_in
from tests.factories import ClientFactory, MatterFactory, PartyFactory, UserFactory

HUAXIN = "Huaxin Technology Co., Ltd."
HUAXIN_USCC = "91310000MA1XYZ1234"
TITLE = "Operation Kestrel — secret tender"
NEW_CLIENT = "Kestrel Robotics Ltd."
ADVERSE_ZH = "华信科技有限公司"
# The number intake assigns to the first corporate matter of the year.
NEW_NUMBER = f"{timezone.localdate().year}-COR-0001"
SECRETS = (HUAXIN, TITLE, NEW_CLIENT, ADVERSE_ZH, "Hidden related party", "Existing title of the hit")


@pytest.fixture
def connie(db):
    """The conflicts partner: clears checks, holds no grant."""
    return _persona("connie", "Connie", (Role.CONFLICTS, Role.PARTNER))


@pytest.fixture
def existing(db):
    """Client C-0100 (Huaxin) with matter 2026-LIT-0001, where 华信科技有限公司 is also an adverse party
    of matter 2025-ARB-0007 of another client."""
    client = ClientFactory(code="C-0100", name=HUAXIN, id_type=IdentifierType.USCC, id_number=HUAXIN_USCC)
    first = MatterFactory(number="2026-LIT-0001", client=client, title="Existing title of the hit")
    other = MatterFactory(number="2025-ARB-0007", client=ClientFactory(code="C-0101"))
    PartyFactory(matter=other, name=ADVERSE_ZH, role=PartyRole.ADVERSE)
    return first, other


def form_data(alice, **overrides):
    data = {
        "title": TITLE,
        "description": "Bid for the northern depot",
        "practice_area": "corporate",
        "classification": str(Classification.CONFIDENTIAL),
        "responsible_partner": str(alice.pk),
        "client_code": "",
        "new_client_name": NEW_CLIENT,
        "new_client_kind": "organization",
        "new_client_id_type": "",
        "new_client_id_number": "",
    }
    for prefix in ("adverse", "related"):
        for n in range(1, 6):
            data |= {f"{prefix}_{n}_name": "", f"{prefix}_{n}_id_type": "", f"{prefix}_{n}_id_number": ""}
    return data | overrides


def open_via_page(client, bob, alice, **overrides) -> tuple:
    response = signed_in(client, bob).post(reverse("matters:intake_new"), form_data(alice, **overrides))
    return response, ConflictCheck.objects.filter(matter__status=MatterStatus.INTAKE).order_by("-run_at").first()


def open_directly(bob, alice, *, number=None, classification=Classification.CONFIDENTIAL, **kwargs):
    kwargs.setdefault("new_client", intake_services.NewClient(name=NEW_CLIENT))
    kwargs.setdefault("practice_area", "corporate")
    return intake_services.open_matter(
        actor=bob, number=number, title=TITLE, classification=classification,
        responsible_partner=alice, **kwargs,
    )  # fmt: skip


def audit_payloads() -> str:
    return "\n".join(bytes(event.payload).decode() for event in AuditEvent.objects.all())


# --- Who reaches the pages ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["dana", "harriet", "adam", "root", "connie_only"])
def test_only_lawyers_and_partners_open_matters(client, request, who, db):
    user = _persona("connie2", "C", (Role.CONFLICTS,)) if who == "connie_only" else request.getfixturevalue(who)
    assert signed_in(client, user).get(reverse("matters:intake_new")).status_code == 404
    assert client.post(reverse("matters:intake_new"), {}).status_code == 404


def test_a_lawyer_gets_the_intake_form(client, bob, alice):
    response = signed_in(client, bob).get(reverse("matters:intake_new"))
    assert response.status_code == 200
    assert b'name="adverse_5_name"' in response.content and b'name="related_5_id_number"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "dana", "harriet", "adam", "root"])
def test_only_conflicts_partners_see_the_queue(client, request, who):
    user = request.getfixturevalue(who)
    assert signed_in(client, user).get(reverse("matters:conflict_queue")).status_code == 404


@pytest.mark.parametrize("who", ["alice", "charlie", "dana", "harriet", "adam", "root"])
def test_a_check_is_404_to_everyone_but_its_lawyer_and_conflicts_partners(client, request, who, bob, alice):
    check = open_directly(bob, alice)
    user = request.getfixturevalue(who)
    url = reverse("matters:conflict_detail", args=[check.pk])
    assert signed_in(client, user).get(url).status_code == 404
    assert client.post(url, {"decision": "clear"}).status_code == 404
    check.refresh_from_db()
    assert check.status == ConflictStatus.PENDING


def test_an_unknown_check_is_404(client, connie):
    url = reverse("matters:conflict_detail", args=["00000000-0000-0000-0000-000000000000"])
    assert signed_in(client, connie).get(url).status_code == 404


# --- Opening a matter -----------------------------------------------------------------------


def test_intake_creates_client_matter_parties_and_check(client, bob, alice, existing):
    response, check = open_via_page(
        client, bob, alice,
        adverse_1_name="华信 科技 有限公司", adverse_3_name="Orion Ltd.", adverse_3_id_type="uscc",
        adverse_3_id_number="91110000AAAA", related_2_name="Hidden related party",
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == reverse("matters:conflict_detail", args=[check.pk])
    matter = check.matter
    assert (matter.status, matter.client.name, matter.responsible_partner) == (MatterStatus.INTAKE, NEW_CLIENT, alice)
    assert matter.client.code.startswith("C-")
    # Blank rows are ignored; the rows kept are numbered in order.
    assert sorted((p.role, p.name) for p in matter.parties.all()) == [
        ("adverse", "Orion Ltd."),
        ("adverse", "华信 科技 有限公司"),
        ("related", "Hidden related party"),
    ]
    assert check.run_by == bob and check.status == ConflictStatus.PENDING
    assert [(h["matter_number"], h["client_code"], h["role"], h["searched"]) for h in check.hits] == [
        ("2025-ARB-0007", "C-0101", "adverse", "adverse party 1")
    ]
    # Nobody holds a grant on a matter awaiting clearance: Bob cannot open it.
    assert not MatterUserGrant.objects.filter(content_object=matter).exists()
    assert client.get(matter.get_absolute_url()).status_code == 404


def test_the_result_page_shows_numbers_codes_and_roles_and_waits(client, bob, alice, existing):
    _response, check = open_via_page(client, bob, alice, adverse_1_name=HUAXIN, adverse_2_name=ADVERSE_ZH)
    page = client.get(reverse("matters:conflict_detail", args=[check.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for shown in (NEW_NUMBER, "2026-LIT-0001", "C-0100", "2025-ARB-0007", "C-0101", 'id="waiting"'):
        assert shown in html
    assert "Adverse party 1" in html and "Adverse party 2" in html
    for secret in SECRETS:
        assert secret not in html
    assert 'name="decision"' not in html  # read-only for the intake lawyer
    assert client.post(reverse("matters:conflict_detail", args=[check.pk]), {"decision": "clear"}).status_code == 403


def test_intake_records_its_events_without_names(client, bob, alice, existing):
    _response, check = open_via_page(client, bob, alice, adverse_1_name=ADVERSE_ZH, related_1_name=HUAXIN)
    intake = AuditEvent.objects.get(action=AuditAction.MATTER_INTAKE)
    ran = AuditEvent.objects.get(action=AuditAction.CONFLICT_CHECK)
    assert intake.record["matter_number"] == ran.record["matter_number"] == NEW_NUMBER
    assert ran.record["detail"] == {"check_id": str(check.pk), "hits": 2}
    assert intake.record["detail"]["adverse"] == intake.record["detail"]["related"] == 1
    assert intake.actor_id == ran.actor_id == bob.pk
    payloads = audit_payloads()
    for secret in SECRETS:
        assert secret not in payloads


def test_the_number_is_assigned_and_a_posted_one_is_ignored(client, bob, alice, existing):
    """No typed number: a number refused as taken would tell Bob a matter he may not see exists."""
    MatterFactory(number=f"{timezone.localdate().year}-COR-0041")
    response, check = open_via_page(client, bob, alice, number="2026-LIT-0001")
    assert response.status_code == 302
    assert check.matter.number == f"{timezone.localdate().year}-COR-0042"
    assert Matter.objects.filter(number="2026-LIT-0001").count() == 1
    assert b'name="number"' not in client.get(reverse("matters:intake_new")).content


def test_numbers_follow_the_practice_area_and_a_number_taken_meanwhile_is_skipped(bob, alice, monkeypatch):
    year = timezone.localdate().year
    first = open_directly(bob, alice)
    litigation = open_directly(
        bob, alice, practice_area="litigation", new_client=intake_services.NewClient(name="Other Ltd.")
    )
    assert (first.matter.number, litigation.matter.number) == (f"{year}-COR-0001", f"{year}-LIT-0001")
    # Another intake took COR-0002 after this one read the highest number.
    monkeypatch.setattr(intake_services, "_highest_number", lambda prefix: 1)
    MatterFactory(number=f"{year}-COR-0002")
    third = open_directly(bob, alice, new_client=intake_services.NewClient(name="Third Ltd."))
    assert third.matter.number == f"{year}-COR-0003"


def test_new_clients_take_the_next_free_code(bob, alice):
    ClientFactory(code="C-0041")
    ClientFactory(code="X-9999")
    first = open_directly(bob, alice)
    second = open_directly(bob, alice, new_client=intake_services.NewClient(name="Other Ltd."))
    assert (first.matter.client.code, second.matter.client.code) == ("C-0042", "C-0043")


def test_a_code_taken_meanwhile_is_skipped(bob, alice, monkeypatch):
    ClientFactory(code="C-0005")
    # Another intake took C-0006 after this one read the highest code.
    monkeypatch.setattr(intake_services, "_highest_client_code", lambda: 5)
    ClientFactory(code="C-0006")
    check = open_directly(bob, alice)
    assert check.matter.client.code == "C-0007"


def test_the_service_refuses_a_taken_number_too(bob, alice, existing):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        open_directly(bob, alice, number="2026-LIT-0001")
    assert "number" in refused.value.message_dict
    assert not Client.objects.filter(code__in=["C-0102"]).exists() and not ConflictCheck.objects.exists()


def test_an_existing_client_by_code_does_not_list_its_other_matters(client, bob, alice, existing):
    # Its other matters are no conflict, and listing them would show Bob numbers he may not see.
    response, check = open_via_page(client, bob, alice, client_code="C-0100", new_client_name="")
    assert response.status_code == 302
    assert check.matter.client.code == "C-0100"
    assert "2026-LIT-0001" not in [h["matter_number"] for h in check.hits]


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"client_code": "C-9999", "new_client_name": ""}, "No client has this code."),
        ({"client_code": "C-0100"}, "not both"),
        ({"new_client_name": ""}, "Give an existing client&#x27;s code, or the new client&#x27;s name."),
        ({"adverse_2_id_number": "123"}, "Enter the party&#x27;s name as well as its identifier."),
        ({"classification": "99"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_a_form_error(client, bob, alice, existing, overrides, field_error):
    response, _check = open_via_page(client, bob, alice, **overrides)
    assert response.status_code == 200
    assert field_error in response.content.decode()
    assert not Matter.objects.filter(number=NEW_NUMBER).exists()


def test_full_width_entries_hit_through_the_intake(client, bob, alice, existing):
    """The acceptance case: a Chinese name and a full-width Latin name and ID at intake."""
    _response, check = open_via_page(
        client, bob, alice,
        adverse_1_name=" 华信科技　有限公司 ",
        adverse_2_name="ＨＵＡＸＩＮ　ＴＥＣＨＮＯＬＯＧＹ　ＣＯ．，　ＬＴＤ．",
        related_1_name="Not a match", related_1_id_type="uscc",
        related_1_id_number="９１３１００００ＭＡ１ＸＹＺ１２３４",
    )  # fmt: skip
    assert sorted((h["searched"], h["matter_number"], h["matched"]) for h in check.hits) == [
        ("adverse party 1", "2025-ARB-0007", "name"),
        ("adverse party 2", "2026-LIT-0001", "name"),
        ("related party 1", "2026-LIT-0001", "identifier"),
    ]


# --- The queue and the decision -------------------------------------------------------------


def test_the_queue_lists_pending_checks_with_hit_counts(client, connie, bob, alice, existing):
    check = open_directly(bob, alice, adverse=[intake_services.PartyEntry(name=ADVERSE_ZH)])
    response = signed_in(client, connie).get(reverse("matters:conflict_queue"))
    html = response.content.decode()
    assert response.status_code == 200
    row = html[html.index(f'id="check-{check.pk}"') :].split("</tr>")[0]
    assert NEW_NUMBER in row and "<td>1</td>" in row
    for secret in SECRETS:
        assert secret not in html


def test_the_queue_costs_the_same_queries_for_one_check_or_six(
    client, connie, bob, alice, existing, django_assert_max_num_queries
):
    open_directly(bob, alice, adverse=[intake_services.PartyEntry(name=HUAXIN)])
    signed_in(client, connie)
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("matters:conflict_queue"))
    for _more in range(5):
        open_directly(bob, alice, adverse=[intake_services.PartyEntry(name=HUAXIN)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("matters:conflict_queue"))


def test_the_conflicts_partner_sees_the_decision_form(client, connie, bob, alice, existing):
    check = open_directly(bob, alice, adverse=[intake_services.PartyEntry(name=HUAXIN)])
    html = signed_in(client, connie).get(reverse("matters:conflict_detail", args=[check.pk])).content.decode()
    assert 'name="decision"' in html and "2026-LIT-0001" in html
    for secret in SECRETS:
        assert secret not in html


def decide(client, connie, check, decision, note=""):
    url = reverse("matters:conflict_detail", args=[check.pk])
    return signed_in(client, connie).post(url, {"decision": decision, "note": note})


def test_clearing_opens_the_matter_and_founds_its_team(client, connie, bob, alice):
    check = open_directly(bob, alice)
    response = decide(client, connie, check, "clear", "No conflict with Kestrel")
    assert response.status_code == 302
    check.refresh_from_db()
    matter = check.matter
    assert (check.status, check.decided_by, matter.status) == (ConflictStatus.CLEARED, connie, MatterStatus.OPEN)
    grants = MatterUserGrant.objects.filter(content_object=matter).select_related("permission")
    assert {(g.user, g.level, g.granted_by, g.expires_at) for g in grants} == {
        (bob, GrantLevel.MANAGE, connie, None),
        (alice, GrantLevel.MANAGE, connie, None),
    }
    decided = AuditEvent.objects.get(action=AuditAction.CONFLICT_DECIDE)
    assert decided.record["detail"] == {"check_id": str(check.pk), "decision": "cleared", "hits": 0}
    assert decided.record["matter_number"] == NEW_NUMBER
    assert "No conflict with Kestrel" not in audit_payloads()
    assert set(Notification.objects.filter(kind=NotificationKind.GRANT_ADDED).values_list("recipient", flat=True)) == {
        bob.pk,
        alice.pk,
    }
    # Bob opens it now, and the matter page says who cleared it.
    page = signed_in(client, bob).get(matter.get_absolute_url())
    assert page.status_code == 200
    assert 'id="conflict-check-line"' in page.content.decode() and "Connie" in page.content.decode()


def test_rejecting_closes_the_matter_and_grants_nothing(client, connie, bob, alice):
    check = open_directly(bob, alice)
    response = decide(client, connie, check, "reject")
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.status == ConflictStatus.REJECTED
    assert (check.matter.status, check.matter.closed_on) == (MatterStatus.CLOSED, timezone.localdate())
    assert not MatterUserGrant.objects.filter(content_object=check.matter).exists()
    # Bob learns it on the check (no notification kind says so yet).
    html = signed_in(client, bob).get(response["Location"]).content.decode()
    assert "check-rejected" in html and 'id="waiting"' not in html


def test_clearing_with_a_wall_opens_the_matter_only_once_the_wall_stands(client, connie, bob, alice, existing):
    check = open_directly(bob, alice, adverse=[intake_services.PartyEntry(name=HUAXIN)])
    response = decide(client, connie, check, "wall")
    assert response.status_code == 302
    assert response["Location"] == reverse("access:wall_new") + f"?check={check.pk}"
    check.refresh_from_db()
    # Decided, but nobody works on the matter before its wall is up.
    assert (check.status, check.matter.status) == (ConflictStatus.CLEARED_WITH_WALL, MatterStatus.INTAKE)
    assert not MatterUserGrant.objects.filter(content_object=check.matter).exists()

    screened = UserFactory(roles=[Role.LAWYER])
    erect_wall(
        actor=connie, kind=WallKind.EXCLUSIONARY, client=check.matter.client, matter=check.matter,
        people=[screened], reason="Acted for Huaxin", memo="Keep out", conflict_check=check,
    )  # fmt: skip
    check.matter.refresh_from_db()
    assert check.matter.status == MatterStatus.OPEN
    assert MatterUserGrant.objects.filter(content_object=check.matter).count() == 2


def test_a_check_is_decided_once(client, connie, bob, alice):
    check = open_directly(bob, alice)
    decide(client, connie, check, "clear")
    response = decide(client, connie, check, "reject")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "decided already" in page and 'name="decision"' not in page
    check.refresh_from_db()
    assert check.status == ConflictStatus.CLEARED and check.matter.status == MatterStatus.OPEN
    with pytest.raises(Exception, match="decided already"):
        intake_services.decide_check(actor=connie, check=check, decision="reject")


def test_a_conflicts_partner_does_not_decide_their_own_intake(client, connie, alice):
    check = open_directly(connie, alice)
    response = decide(client, connie, check, "clear")
    assert response.status_code == 200
    assert "another conflicts partner decides it" in response.content.decode()
    check.refresh_from_db()
    assert check.status == ConflictStatus.PENDING


def test_a_bad_decision_is_a_form_error(client, connie, bob, alice):
    check = open_directly(bob, alice)
    response = decide(client, connie, check, "approve-everything")
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_a_highly_confidential_matter_gets_founding_grants_that_expire(client, connie, bob, alice, settings):
    check = open_directly(bob, alice, classification=Classification.HIGHLY_CONFIDENTIAL)
    decide(client, connie, check, "clear")
    grants = MatterUserGrant.objects.filter(content_object=check.matter)
    assert grants.count() == 2
    limit = timezone.now() + timedelta(days=settings.ACCESS_MAX_DAYS[Classification.HIGHLY_CONFIDENTIAL] + 1)
    assert all(g.expires_at is not None and g.expires_at <= limit for g in grants)


def test_the_decision_note_stays_out_of_the_change_history(client, connie, bob, alice):
    check = open_directly(bob, alice)
    decide(client, connie, check, "clear", "Kestrel and Huaxin never met")
    with connection.cursor() as cursor:
        cursor.execute("SELECT changes_text, changes FROM auditlog_logentry")
        assert "Kestrel and Huaxin" not in json.dumps(cursor.fetchall(), ensure_ascii=False)


def test_the_intake_lawyer_does_not_read_the_conflicts_partner_s_note(client, connie, bob, alice):
    """The note may name the conflicting client: it is for those who decide checks."""
    check = open_directly(bob, alice)
    decide(client, connie, check, "clear", "Kestrel and Huaxin never met")
    assert "Kestrel and Huaxin" in client.get(reverse("matters:conflict_detail", args=[check.pk])).content.decode()
    signed_in(client, bob)
    page = client.get(reverse("matters:conflict_detail", args=[check.pk]))
    assert page.status_code == 200
    assert "Kestrel and Huaxin" not in page.content.decode()
