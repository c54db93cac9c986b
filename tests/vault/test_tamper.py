"""Encrypted values that were moved, altered, cut short or replaced in the database are refused.

Every change is made with raw SQL, as someone with write access to the database
(or to a backup being restored) would. The error names the model, field and row
so an operator can find it, and never the plaintext.
"""

from __future__ import annotations

import base64

import pytest
from django.db import connection
from django.urls import reverse

from matters.models import Client, Document, Matter, Party
from tests.factories import ClientFactory, MatterFactory, PartyFactory, grant, make_document
from vault import keyring
from vault.envelope import PREFIX, TamperedValue
from vault.fields import EncryptedLookup
from vault.keys import KeyUnavailable
from vault.models import DataKey

pytestmark = pytest.mark.django_db

TITLE_A, TITLE_B = "Project Kestrel — 收购要约", "Project Ptarmigan"
DESCRIPTION_A = "Kestrel is buying the Ptarmigan plant"


def _where(model, pk) -> tuple[str, str]:
    return connection.ops.quote_name(model._meta.db_table), model._meta.pk.get_db_prep_value(pk, connection)


def stored(model, pk, column: str):
    table, key = _where(model, pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [key])  # noqa: S608
        return cursor.fetchone()[0]


def store(model, pk, column: str, value) -> None:
    table, key = _where(model, pk)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {connection.ops.quote_name(column)} = %s WHERE id = %s", [value, key])  # noqa: S608


def read(model, pk, field: str):
    """The field as the application reads it, from a fresh instance."""
    return getattr(model.objects.get(pk=pk), field)


def assert_refused(model, pk, field: str, *secrets: str) -> TamperedValue:
    with pytest.raises(TamperedValue) as refused:
        read(model, pk, field)
    message = str(refused.value)
    assert model._meta.label_lower in message
    assert field in message
    assert str(pk) in message
    for secret in secrets:
        assert secret not in message
    return refused.value


@pytest.fixture
def two_matters():
    """Two matters of one client (one data key), A with a description."""
    client = ClientFactory()
    a = MatterFactory(client=client, title=TITLE_A, description=DESCRIPTION_A)
    b = MatterFactory(client=client, title=TITLE_B)
    return a, b


def test_a_value_moved_to_another_row_of_the_same_column_is_refused(two_matters):
    a, b = two_matters
    store(Matter, b.pk, "title", stored(Matter, a.pk, "title"))

    error = assert_refused(Matter, b.pk, "title", TITLE_A, TITLE_B)

    assert "moved here from another row or column" in str(error)
    assert read(Matter, a.pk, "title") == TITLE_A  # the original is untouched


def test_a_value_moved_to_another_column_of_the_same_row_is_refused(two_matters):
    a, _b = two_matters
    store(Matter, a.pk, "title", stored(Matter, a.pk, "description"))

    assert_refused(Matter, a.pk, "title", TITLE_A, DESCRIPTION_A)
    assert read(Matter, a.pk, "description") == DESCRIPTION_A


def test_a_name_moved_between_two_clients_is_refused():
    first, second = ClientFactory(name="Kestrel Aviation 股份有限公司"), ClientFactory(name="Ptarmigan Mills")
    store(Client, second.pk, "name", stored(Client, first.pk, "name"))

    assert_refused(Client, second.pk, "name", "Kestrel Aviation 股份有限公司", "Ptarmigan Mills")


def test_a_party_id_number_moved_to_a_party_of_another_client_is_refused():
    ours = PartyFactory(name="Kestrel Aviation", id_number="91310000MA1KESTRL")
    theirs = PartyFactory(name="Ptarmigan Mills", id_number="91440300PTARMIGAN")
    store(Party, theirs.pk, "id_number", stored(Party, ours.pk, "id_number"))

    assert_refused(Party, theirs.pk, "id_number", "91310000MA1KESTRL", "91440300PTARMIGAN")


def _rewrite(text: str, change) -> str:
    raw = bytearray(base64.urlsafe_b64decode(text[len(PREFIX) :]))
    change(raw)
    return PREFIX + base64.urlsafe_b64encode(bytes(raw)).decode()


def _flip(position: int):
    def change(raw: bytearray) -> None:
        raw[position] ^= 0x01

    return change


@pytest.mark.parametrize(
    "position",
    [
        pytest.param(8, id="nonce"),
        pytest.param(20, id="first-ciphertext-byte"),
        pytest.param(-1, id="last-tag-byte"),
    ],
)
def test_one_flipped_bit_in_the_ciphertext_is_refused(two_matters, position):
    a, _b = two_matters
    store(Matter, a.pk, "title", _rewrite(stored(Matter, a.pk, "title"), _flip(position)))

    assert_refused(Matter, a.pk, "title", TITLE_A)


def test_a_changed_character_in_the_base64_body_is_refused(two_matters):
    a, _b = two_matters
    text = stored(Matter, a.pk, "title")
    middle = len(PREFIX) + (len(text) - len(PREFIX)) // 2
    changed = text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]
    store(Matter, a.pk, "title", changed)

    assert_refused(Matter, a.pk, "title", TITLE_A)


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda text: text[: len(PREFIX) + 24], id="to-its-first-bytes"),
        pytest.param(lambda text: _rewrite(text, lambda raw: raw.__delitem__(slice(-4, None))), id="tag-cut-short"),
        pytest.param(lambda text: text[:-3], id="base64-cut-mid-quantum"),
        pytest.param(lambda text: PREFIX, id="prefix-only"),
    ],
)
def test_a_truncated_envelope_is_refused(two_matters, cut):
    a, _b = two_matters
    store(Matter, a.pk, "title", cut(stored(Matter, a.pk, "title")))

    assert_refused(Matter, a.pk, "title", TITLE_A)


def test_plaintext_written_into_an_encrypted_column_is_refused_not_shown(two_matters, alice, login):
    a, _b = two_matters
    store(Matter, a.pk, "title", "Forged title Osprey")

    error = assert_refused(Matter, a.pk, "title", "Forged title Osprey")
    assert "not an encrypted envelope" in str(error)

    # The page fails rather than show the forged value as if it were genuine.
    grant(alice, a)
    browser = login(alice)
    browser.raise_request_exception = False
    response = browser.get(a.get_absolute_url())
    assert response.status_code == 500
    assert "Osprey" not in response.content.decode()


def test_a_forged_document_title_is_refused_too():
    document = make_document(MatterFactory(), title="Kestrel heads of terms")
    store(Document, document.pk, "title", "Kestrel forged heads of terms")

    assert_refused(Document, document.pk, "title", "Kestrel forged heads of terms")


def test_a_wrapped_data_key_copied_onto_another_key_row_does_not_unwrap():
    first, second = ClientFactory(name="Kestrel Aviation"), ClientFactory(name="Ptarmigan Mills")
    first_key, second_key = DataKey.objects.get(owner=first.pk), DataKey.objects.get(owner=second.pk)
    DataKey.objects.filter(pk=second_key.pk).update(wrapped=first_key.wrapped, kek_version=first_key.kek_version)
    keyring.clear_cache()  # as a process that had not read the key yet

    with pytest.raises(KeyUnavailable) as refused:
        read(Client, second.pk, "name")

    assert "failed authentication" in str(refused.value)
    assert "Ptarmigan" not in str(refused.value) and "Kestrel" not in str(refused.value)
    assert read(Client, first.pk, "name") == "Kestrel Aviation"


def test_a_wrapped_data_key_altered_in_place_does_not_unwrap():
    client = ClientFactory(name="Kestrel Aviation")
    key = DataKey.objects.get(owner=client.pk)
    wrapped = bytearray(key.wrapped)
    wrapped[-1] ^= 0x80
    DataKey.objects.filter(pk=key.pk).update(wrapped=bytes(wrapped))
    keyring.clear_cache()

    with pytest.raises(KeyUnavailable):
        read(Client, client.pk, "name")


@pytest.mark.parametrize(
    "lookup",
    [
        pytest.param({"name": "Kestrel Aviation"}, id="exact"),
        pytest.param({"name__in": ["Kestrel Aviation", "Ptarmigan Mills"]}, id="in"),
        pytest.param({"name__iexact": "kestrel aviation"}, id="iexact"),
        pytest.param({"name__icontains": "Kestrel"}, id="icontains"),
        pytest.param({"name__startswith": "Kes"}, id="startswith"),
        pytest.param({"contact_email": "ops@kestrel.example"}, id="another-encrypted-field"),
    ],
)
def test_filtering_an_encrypted_field_by_plaintext_raises_rather_than_matching_nothing(lookup):
    ClientFactory(name="Kestrel Aviation", contact_email="ops@kestrel.example")

    with pytest.raises(EncryptedLookup) as refused:
        list(Client.objects.filter(**lookup))

    assert "blind index" in str(refused.value)
    assert "Kestrel" not in str(refused.value)


def test_the_matter_title_cannot_be_searched_by_plaintext_either():
    MatterFactory(title=TITLE_A)

    with pytest.raises(EncryptedLookup):
        Matter.objects.filter(title=TITLE_A).exists()


def test_the_document_page_of_a_tampered_title_does_not_show_the_forgery(alice, login):
    matter = MatterFactory()
    grant(alice, matter)
    document = make_document(matter, title="Kestrel heads of terms")
    store(Document, document.pk, "title", stored(Document, document.pk, "original_name"))
    browser = login(alice)
    browser.raise_request_exception = False

    response = browser.get(reverse("matters:document_detail", args=[document.pk]))

    assert response.status_code == 500
    assert "statement.pdf" not in response.content.decode()
