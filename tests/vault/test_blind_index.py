"""Blind indexes: exact-match search on encrypted names and ID numbers, after a documented normalization.

The normalization (vault/blind.py, docs/keys.md) is what lets a lawyer type a
name the way it comes to hand — another case, full-width, spaced — and still
find the client. Search stays exact: a part of a name finds nothing, because the
database holds only keyed hashes of whole values.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from django.urls import reverse

from access.models import GrantLevel
from audit.actions import AuditAction
from audit.models import AuditEvent
from matters.models import Client, IdentifierType, PartyRole
from tests.factories import ClientFactory, MatterFactory, PartyFactory, grant
from vault.blind import INDEX_LENGTH, blind_index
from vault.keys import blind_index_key, new_blind_index_key_text

LIST_URL = reverse("matters:list")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        pytest.param("ＡＢＣ　有限公司", "abc 有限公司", id="full-width-letters-and-ideographic-space"),
        pytest.param("张 三", "张三", id="space-between-chinese-characters"),
        pytest.param("张　三", "张三", id="ideographic-space-between-chinese-characters"),
        pytest.param("HARBOUR Shipping co.", "Harbour Shipping Co.", id="case"),
        pytest.param("STRASSE Holdings", "Straße Holdings", id="case-folding-beyond-lower"),
        pytest.param("  Harbour \t Shipping\n Co. ", "Harbour Shipping Co.", id="whitespace-collapsed"),
        pytest.param("上海 明珠 贸易有限公司", "上海明珠贸易有限公司", id="spaced-chinese-company"),
        pytest.param("Ｌｏｔｕｓ　Ｂｉｏｔｅｃｈ　Ｌｔｄ．", "Lotus Biotech Ltd.", id="full-width-punctuation"),
        pytest.param("Huaxin Technology Co.，Ltd.", "Huaxin Technology Co., Ltd.", id="full-width-comma-no-space"),
        pytest.param("Huaxin Technology Co Ltd", "Huaxin Technology Co., Ltd.", id="punctuation-left-out"),
        pytest.param("华信科技（上海）有限公司", "华信科技上海有限公司", id="chinese-brackets"),
        pytest.param("O’Brien & Partners", "O'Brien and Partners".replace("and", "&"), id="curly-apostrophe"),
    ],
)
def test_names_typed_another_way_index_the_same(typed, stored):
    assert blind_index(typed, "name") == blind_index(stored, "name")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("Harbour Shipping", "Harbour  Shipping Co.", id="different-words"),
        pytest.param("Lotus Biotech", "Lotus Bio tech", id="space-between-latin-words-matters"),
        pytest.param("abc有限公司", "abc 有限公司", id="space-between-latin-and-chinese-matters"),
        pytest.param("张三", "张 四", id="different-characters"),
    ],
)
def test_different_names_index_differently(first, second):
    assert blind_index(first, "name") != blind_index(second, "name")


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("9131 0000-MA1", id="spaces-dashes-upper-case"),
        pytest.param("91310000ma1", id="plain"),
        pytest.param("９１３１００００ＭＡ１", id="full-width-digits-and-letters"),
        pytest.param("9131／0000－ma1", id="full-width-punctuation"),
    ],
)
def test_identifiers_typed_another_way_index_the_same(typed):
    assert blind_index(typed, "identifier") == blind_index("91310000MA1", "identifier")


def test_a_name_never_equals_the_same_text_as_an_identifier():
    for text in ("91310000ma1", "abc", "张三"):
        assert blind_index(text, "name") != blind_index(text, "identifier")


def test_an_index_is_a_fixed_length_keyed_hash_revealing_nothing_of_the_value():
    index = blind_index("Harbour Shipping Co.", "name")

    assert re.fullmatch(rf"[0-9a-f]{{{INDEX_LENGTH}}}", index)
    assert "harbour" not in index


@pytest.mark.parametrize("value", ["", None, "   ", "\u3000"], ids=["empty", "none", "spaces", "ideographic-space"])
def test_an_empty_name_indexes_to_nothing(value):
    assert blind_index(value, "name") == ""


@pytest.mark.parametrize("value", ["", "---", " / ", "－－"], ids=["empty", "dashes", "slash", "full-width-dashes"])
def test_an_identifier_without_letters_or_digits_indexes_to_nothing(value):
    assert blind_index(value, "identifier") == ""


@pytest.fixture
def other_index_key(settings):
    original = blind_index("Harbour Shipping Co.", "name")
    settings.VAULT_BLIND_INDEX_KEY = new_blind_index_key_text()
    blind_index_key.cache_clear()
    yield original
    blind_index_key.cache_clear()  # the settings fixture restores the key itself


def test_the_index_depends_on_the_index_key(other_index_key):
    assert blind_index("Harbour Shipping Co.", "name") != other_index_key


def test_a_stored_index_is_kept_up_to_date_on_save(db):
    client = ClientFactory(name="Harbour Shipping Co.", id_number="9131 0000 MA1")
    assert client.name_index == blind_index("harbour shipping co.", "name")
    assert client.id_number_index == blind_index("91310000MA1", "identifier")

    client.name, client.id_number = "Lotus Biotech Ltd.", ""
    client.save()
    client.refresh_from_db()

    assert client.name_index == blind_index("LOTUS BIOTECH LTD.", "name")
    assert client.id_number_index == ""


# --- through the matter list ----------------------------------------------------------------------


def numbers_on(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<a href="/matters/[0-9a-f-]{36}/">\s*([^<]+?)\s*</a>', response.content.decode())


@pytest.fixture
def mingzhu(alice):
    """A client with two matters Alice can see; one matter has a party with a passport number."""
    client = ClientFactory(
        name="上海明珠贸易有限公司 Pearl Trading", id_type=IdentifierType.USCC, id_number="91310000MA1FL8XQ3K"
    )
    first = MatterFactory(number="MZ-001", client=client)
    second = MatterFactory(number="MZ-002", client=client)
    PartyFactory(
        matter=second,
        name="Zephyrine Holdings",
        role=PartyRole.ADVERSE,
        id_type=IdentifierType.PASSPORT,
        id_number="G55012873",
    )
    for matter in (first, second):
        grant(alice, matter, GrantLevel.VIEW)
    MatterFactory(number="ZZ-OTHER", client=ClientFactory(name="Someone Else Ltd."))  # never found
    return client


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("上海明珠贸易有限公司 PEARL TRADING", id="upper-case"),
        pytest.param("上海 明珠 贸易有限公司 pearl trading", id="spaced-chinese"),
        pytest.param("上海明珠贸易有限公司　ＰＥＡＲＬ　ＴＲＡＤＩＮＧ", id="full-width"),
        pytest.param("9131-0000-MA1F-L8XQ-3K", id="client-id-number"),
    ],
)
def test_the_clients_full_name_or_id_typed_another_way_finds_its_matters(mingzhu, alice, login, typed):
    assert sorted(numbers_on(login(alice).get(LIST_URL, {"q": typed}))) == ["MZ-001", "MZ-002"]


def test_a_partys_id_number_finds_its_matter(mingzhu, alice, login):
    assert numbers_on(login(alice).get(LIST_URL, {"q": "g 5501 2873"})) == ["MZ-002"]


def test_a_partys_full_name_finds_its_matter(mingzhu, alice, login):
    assert numbers_on(login(alice).get(LIST_URL, {"q": "zephyrine holdings"})) == ["MZ-002"]


@pytest.mark.parametrize(
    "partial", ["上海明珠", "Pearl Trading", "明珠贸易", "Zephyrine", "91310000", "G5501287"], ids=lambda t: t
)
def test_exact_match_only_part_of_a_name_or_id_number_finds_nothing(mingzhu, alice, login, partial):
    assert numbers_on(login(alice).get(LIST_URL, {"q": partial})) == []


def test_someone_without_a_grant_finds_nothing_by_the_exact_name(mingzhu, charlie, login):
    response = login(charlie).get(LIST_URL, {"q": "上海明珠贸易有限公司 Pearl Trading"})

    assert numbers_on(response) == []
    assert "0 matters" in html.unescape(response.content.decode())


def test_a_term_that_normalizes_to_nothing_does_not_match_records_with_no_id_number(alice, login):
    grant(alice, MatterFactory(number="NOID-1", client=ClientFactory(name="No Identifier Co.", id_number="")))
    assert Client.objects.filter(id_number_index="").exists()

    assert numbers_on(login(alice).get(LIST_URL, {"q": "／／"})) == []


@pytest.mark.parametrize(
    "typed", ["上海明珠贸易有限公司 Pearl Trading", "G55012873", "Zephyrine Holdings"], ids=["chinese", "id", "ascii"]
)
def test_the_search_term_never_appears_in_the_audit_event(mingzhu, alice, login, typed):
    assert numbers_on(login(alice).get(LIST_URL, {"q": typed}))

    event = AuditEvent.objects.get(action=AuditAction.MATTER_SEARCH)
    stored = bytes(event.payload).decode()
    readable = json.dumps(event.record, ensure_ascii=False) + stored
    for fragment in (typed, *typed.split()):
        assert fragment.casefold() not in readable.casefold()
    # Not the blind index either: a reader of the trail could match it against the client table.
    for kind in ("name", "identifier"):
        assert blind_index(typed, kind) not in readable


def test_the_index_is_the_documented_hmac_of_the_normalized_value():
    import hmac

    from vault.blind import normalize_name
    from vault.keys import blind_index_key

    value = "上海 明珠 贸易有限公司"
    expected = hmac.new(blind_index_key(), b"name\x00" + normalize_name(value).encode(), "sha256").hexdigest()[:32]

    assert blind_index(value, "name") == expected


def test_reindex_recomputes_indexes_computed_another_way_and_leaves_the_rest(db):
    """After the normalization changes, ``reindex_blind`` (and the migration that runs it) brings
    every stored index to the new form, so search and the conflict check find the row again; a
    lateral hire's prior engagement that matched the row is carried along."""
    from io import StringIO

    from django.core.management import call_command

    from matters.models import Client, PartyRole, PriorEngagement
    from tests.factories import ClientFactory, UserFactory

    stale = ClientFactory(name="Huaxin Technology Co., Ltd.", id_number="91310000MA1XYZ1234")
    fine = ClientFactory(name="Lotus Biotech")
    # As an older normalization left it: punctuation kept; a prior engagement recorded then.
    old_form = blind_index("Huaxin Technology Co., Ltd. (old form)", "name")
    Client.objects.filter(pk=stale.pk).update(name_index=old_form)
    prior = PriorEngagement.objects.create(
        person=UserFactory(), label="prior client 1", role=PartyRole.CLIENT, name_index=old_form
    )
    assert not Client.objects.filter(name_index=blind_index("Huaxin Technology Co.，Ltd.", "name")).exists()

    out = StringIO()
    call_command("reindex_blind", stdout=out)

    assert "of 1 rows; 1 prior engagements carried along" in out.getvalue()
    new_form = blind_index("Huaxin Technology Co.，Ltd.", "name")
    assert list(Client.objects.filter(name_index=new_form)) == [stale]
    assert PriorEngagement.objects.get(pk=prior.pk).name_index == new_form
    assert Client.objects.get(pk=fine.pk).name_index == blind_index("Lotus Biotech", "name")
    again = StringIO()
    call_command("reindex_blind", stdout=again)  # nothing left to change
    assert "of 0 rows; 0 prior engagements" in again.getvalue()


def test_reindex_leaves_a_shredded_client_without_an_index(db):
    from matters.models import Client
    from tests.factories import ClientFactory
    from vault.services import destroy_owner_data, reindex_blind

    client = ClientFactory(name="Huaxin Technology Co., Ltd.", id_number="91310000MA1XYZ1234")
    destroy_owner_data(client.pk)
    assert reindex_blind() == {"rows": 0, "unreadable": 0}
    shredded = Client.objects.get(pk=client.pk)
    assert (shredded.name_index, shredded.id_number_index) == ("", "")


def test_an_alias_name_is_sealed_to_its_row_and_opens_again(db):
    """Aliases had an integer key, assigned after the INSERT: their names were sealed to "None"."""
    from matters.models import ClientAlias
    from tests.factories import ClientFactory

    alias = ClientAlias.objects.create(client=ClientFactory(), name="Huaxin Semiconductor Holdings")
    assert ClientAlias.objects.get(pk=alias.pk).name == "Huaxin Semiconductor Holdings"
