"""The conflict check itself (matters.conflicts): exact blind-index matches on clients, their
aliases and parties — whatever the width, case or spacing — and nothing near; hits name
matters by number, client code and role, never by name."""

from __future__ import annotations

import pytest

from matters.conflicts import Searched, check_indexes, run_check
from matters.models import Client, ClientAlias, IdentifierType, PartyRole
from tests.factories import ClientFactory, MatterFactory, PartyFactory

pytestmark = pytest.mark.django_db

HUAXIN = "Huaxin Technology Co., Ltd."
HUAXIN_ZH = "华信科技有限公司"
HUAXIN_USCC = "91310000MA1XYZ1234"
HIT_KEYS = {"matter_id", "matter_number", "client_code", "role", "matched", "searched", "searched_role"}


@pytest.fixture
def huaxin():
    """Client C-0100, Huaxin, with two matters and a former name on record."""
    client = ClientFactory(code="C-0100", name=HUAXIN, id_type=IdentifierType.USCC, id_number=HUAXIN_USCC)
    ClientAlias.objects.create(client=client, name="Huaxin Semiconductor Holdings")
    return client, [
        MatterFactory(number="2026-LIT-0001", client=client),
        MatterFactory(number="2026-IP-0002", client=client),
    ]


def adverse(name="", id_number="", label="adverse party 1"):
    return [(label, PartyRole.ADVERSE, name, id_number)]


def numbers(hits):
    return sorted(hit["matter_number"] for hit in hits)


def test_a_client_hit_lists_every_matter_of_that_client(huaxin):
    hits = run_check(names=adverse(HUAXIN))
    assert numbers(hits) == ["2026-IP-0002", "2026-LIT-0001"]
    assert {(h["client_code"], h["role"], h["matched"], h["searched"], h["searched_role"]) for h in hits} == {
        ("C-0100", "client", "name", "adverse party 1", "adverse")
    }


def test_hits_carry_numbers_codes_and_roles_only(huaxin):
    for hit in run_check(names=adverse(HUAXIN, HUAXIN_USCC)):
        assert set(hit) == HIT_KEYS
        assert HUAXIN not in str(hit) and "Confidential matter title" not in str(hit)


def test_an_identifier_matches_a_client_and_a_party(huaxin):
    other = PartyFactory(
        matter=MatterFactory(number="2025-COR-0009"), name="Someone else", id_number="110101199003071234"
    )
    hits = run_check(names=adverse("A name nobody has", HUAXIN_USCC) + adverse("", "110101199003071234", "related 1"))
    assert {(h["matter_number"], h["matched"], h["searched"]) for h in hits} == {
        ("2026-LIT-0001", "identifier", "adverse party 1"),
        ("2026-IP-0002", "identifier", "adverse party 1"),
        (other.matter.number, "identifier", "related 1"),
    }
    assert next(h for h in hits if h["searched"] == "related 1")["role"] == "adverse"


def test_an_alias_matches_as_the_client_does(huaxin):
    hits = run_check(names=adverse("HUAXIN semiconductor   holdings"))
    assert numbers(hits) == ["2026-IP-0002", "2026-LIT-0001"]
    assert {h["role"] for h in hits} == {"client"}


def test_a_party_hit_names_its_role_there():
    party = PartyFactory(name="Orion Semiconductor Ltd.", role=PartyRole.RELATED)
    (hit,) = run_check(names=[("client", PartyRole.CLIENT, "orion semiconductor ltd.", "")])
    assert (hit["matter_number"], hit["client_code"], hit["role"], hit["searched_role"]) == (
        party.matter.number,
        party.matter.client.code,
        "related",
        "client",
    )


@pytest.mark.parametrize(
    "near",
    [
        "Huaxin Technologies Co., Ltd.",
        "Huaxin Technology",  # a part
        "Huaxin Technology Co., Ltd. (Shanghai)",
        "Huaxim Technology Co., Ltd.",
    ],
)
def test_near_names_do_not_match(huaxin, near):
    assert run_check(names=adverse(near)) == []


@pytest.mark.parametrize(
    "typed",
    [
        "Huaxin Technology Co.，Ltd.",
        "Huaxin Technology Co.,Ltd.",
        "Huaxin Technology Co Ltd",
        "HUAXIN TECHNOLOGY CO. LTD",
    ],
)
def test_the_same_name_punctuated_another_way_matches(huaxin, typed):
    """Chinese companies' English names are written "Co., Ltd.", "Co.,Ltd." (often with a full-width
    comma) and "Co. Ltd" alike: the check must not miss one for a comma."""
    _client, matters = huaxin
    hits = run_check(names=adverse(typed))
    assert sorted((hit["matter_number"], hit["matched"]) for hit in hits) == sorted(
        (matter.number, "name") for matter in matters
    )


def test_a_near_identifier_does_not_match(huaxin):
    assert run_check(names=adverse("", HUAXIN_USCC[:-1])) == []
    assert run_check(names=adverse("", HUAXIN_USCC + "5")) == []


def test_full_width_latin_and_spacing_match():
    ClientFactory(code="C-0200", name=HUAXIN)
    MatterFactory(number="2026-LIT-0200", client=Client.objects.get(code="C-0200"))
    # Full-width letters and punctuation, ideographic spaces (U+3000), any case.
    (hit,) = run_check(names=adverse("ＨＵＡＸＩＮ　ＴＥＣＨＮＯＬＯＧＹ　ＣＯ．，　ＬＴＤ．"))
    assert hit["matter_number"] == "2026-LIT-0200"
    assert run_check(names=adverse("  huaxin   TECHNOLOGY co., ltd. "))


@pytest.mark.parametrize("typed", ["华信科技有限公司", "华信 科技 有限公司", " 华信科技　有限公司 "])
def test_a_chinese_name_matches_whatever_the_spacing(typed):
    party = PartyFactory(name=HUAXIN_ZH)
    (hit,) = run_check(names=adverse(typed))
    assert hit["matter_number"] == party.matter.number


def test_full_width_digits_of_an_identifier_match():
    party = PartyFactory(name="Anyone", id_type=IdentifierType.USCC, id_number=HUAXIN_USCC)
    (hit,) = run_check(names=adverse("", "９１３１００００ＭＡ１ＸＹＺ１２３４"))
    assert (hit["matter_number"], hit["matched"]) == (party.matter.number, "identifier")
    assert run_check(names=adverse("", "9131-0000 ma1xyz1234"))


def test_empty_names_and_identifiers_match_nothing():
    PartyFactory(name="Somebody", id_number="")  # a blank identifier on record
    assert run_check(names=adverse("", "")) == []
    assert run_check(names=adverse("   ", " - ")) == []
    assert check_indexes([Searched("blank", PartyRole.ADVERSE)]) == []


def test_the_new_matter_finds_neither_itself_nor_its_own_client_s_other_matters(huaxin):
    # Acting again for a client is no conflict, and its other matters' numbers are not the
    # intake lawyer's to see.
    _client, (first, second) = huaxin
    assert run_check(names=adverse(HUAXIN), exclude_matter=first) == []
    PartyFactory(matter=second, name="Orion Semiconductor Ltd.")
    assert run_check(names=adverse("Orion Semiconductor Ltd."), exclude_matter=first) == []
    other = MatterFactory(number="2026-OTH-0001")
    PartyFactory(matter=other, name="Orion Semiconductor Ltd.")
    assert numbers(run_check(names=adverse("Orion Semiconductor Ltd."), exclude_matter=first)) == [other.number]


def test_one_hit_per_matter_and_searched_entry_keeps_the_most_telling(huaxin):
    _client, (first, _second) = huaxin
    PartyFactory(matter=first, name="Huaxin Technology Co., Ltd.", role=PartyRole.RELATED, id_number=HUAXIN_USCC)
    hits = [h for h in run_check(names=adverse(HUAXIN, HUAXIN_USCC)) if h["matter_number"] == first.number]
    assert len(hits) == 1
    assert (hits[0]["role"], hits[0]["matched"]) == ("client", "identifier")
    # Two searched entries meeting the same matter: one hit each.
    both = run_check(names=adverse(HUAXIN) + adverse(HUAXIN_USCC, "", "adverse party 2"))
    assert len([h for h in both if h["matter_number"] == first.number]) == 1  # the second is a name, not an ID
    both = run_check(names=adverse(HUAXIN) + adverse("", HUAXIN_USCC, "adverse party 2"))
    assert sorted(h["searched"] for h in both if h["matter_number"] == first.number) == [
        "adverse party 1",
        "adverse party 2",
    ]


def test_two_queries_however_many_names(huaxin, django_assert_num_queries):
    names = [(f"adverse party {n}", PartyRole.ADVERSE, f"Party number {n}", f"ID{n:06d}") for n in range(10)]
    with django_assert_num_queries(2):
        run_check(names=[*names, ("client", PartyRole.CLIENT, HUAXIN, HUAXIN_USCC)])
