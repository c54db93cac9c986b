"""A database from before encryption at rest is encrypted in place by its migration.

Each test takes the schema back to before the vault (matters 0001, no vault
tables), stores clients, matters, parties and documents the way the old code
did — in clear, files included — and migrates forward again. The schema is
back at the latest migration when the test ends.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from access.models import GrantLevel
from matters.models import Client, Document, Matter, Party
from tests.factories import UserFactory, enroll, grant
from vault import keyring, services, streams
from vault.blind import blind_index
from vault.envelope import PREFIX

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_VAULT = [("matters", "0001_initial"), ("vault", None)]

CLIENTS = {
    "C-OLD-1": "Huaxin Technology Co., Ltd.",
    "C-OLD-2": "张 三",
}
MATTERS = {
    "2019-LIT-0007": ("C-OLD-1", "Huaxin v. Orion Semiconductor — patent infringement", "Claim on the '482 patent."),
    "2019-LIT-0008": ("C-OLD-2", "张三 股东纠纷", ""),
}
PARTIES = [
    ("2019-LIT-0007", "Orion Semiconductor Ltd.", "adverse"),
    ("2019-LIT-0007", "Huaxin Technology Co., Ltd.", "client"),
    ("2019-LIT-0008", "Sunrise Holdings", "adverse"),
]
# Bytes a text-mode path would alter, and one document larger than a segment of the test's size.
DOCUMENTS = [
    ("2019-LIT-0007", "Claim chart — '482 patent", "claim chart.pdf", b"%PDF-1.4\r\n\x00\xff claim chart\n"),
    ("2019-LIT-0007", "Engagement letter", "engagement.txt", b"Engagement letter, Huaxin.\n" * 400),
    ("2019-LIT-0008", "股东协议", "股东协议.txt", "股东协议 第一条\n".encode()),
]


def latest_nodes(executor: MigrationExecutor) -> list:
    return executor.loader.graph.leaf_nodes()


@pytest.fixture
def migrate_to(transactional_db):
    """``migrate_to(targets)`` moves the schema; the schema ends the test at the latest migration."""

    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.migrate(targets)
        keyring.clear_cache()
        return executor

    yield migrate
    migrate(latest_nodes(MigrationExecutor(connection)))


@pytest.fixture
def old_database(migrate_to, settings):
    """Plaintext rows and files as the code before the vault stored them; returns what was stored."""
    # Small segments, so the larger document spans several.
    settings.VAULT_SEGMENT_KIB = 4
    executor = migrate_to(BEFORE_THE_VAULT)
    old = executor.loader.project_state([("matters", "0001_initial")]).apps
    OldClient, OldMatter = old.get_model("matters", "Client"), old.get_model("matters", "Matter")
    OldParty, OldDocument = old.get_model("matters", "Party"), old.get_model("matters", "Document")
    clients = {code: OldClient.objects.create(code=code, name=name) for code, name in CLIENTS.items()}
    matters = {
        number: OldMatter.objects.create(
            number=number, client=clients[code], title=title, description=description, practice_area="litigation"
        )
        for number, (code, title, description) in MATTERS.items()
    }
    for number, name, role in PARTIES:
        OldParty.objects.create(matter=matters[number], name=name, role=role)
    storage = storages["documents"]
    stored = {}
    for number, title, original_name, content in DOCUMENTS:
        document_id = uuid.uuid4()
        name = storage.save(f"{matters[number].id}/{document_id}", ContentFile(content))
        OldDocument.objects.create(
            id=document_id,
            matter=matters[number],
            title=title,
            file=name,
            original_name=original_name,
            classification=30,
            size=len(content),
            content_type="text/plain",
            sha256=hashlib.sha256(content).hexdigest(),
        )
        stored[document_id] = (name, content)
    return stored


def raw_rows(model, *columns) -> list[tuple]:
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM {table} ORDER BY {connection.ops.quote_name('id')}")  # noqa: S608
        return cursor.fetchall()


ENCRYPTED = {
    Client: ("name", "id_number", "contact_name", "contact_email", "contact_phone", "address", "legal_hold_reason"),
    Matter: ("title", "description", "notes"),
    Party: ("name", "id_number"),
    Document: ("title", "original_name", "sha256"),
}
# Blind index column: the column it indexes.
INDEXES = {
    Client: {"name_index": "name", "id_number_index": "id_number"},
    Party: {"name_index": "name", "id_number_index": "id_number"},
}


def snapshot() -> dict:
    """Every encrypted column, blind index and file name as stored, with the documents folder's files."""
    root = Path(storages["documents"].location)
    return {
        "columns": {
            model: raw_rows(model, *columns, *INDEXES.get(model, ()), *(["file"] if model is Document else []))
            for model, columns in ENCRYPTED.items()
        },
        "files": {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()},
    }


def plaintexts() -> list[str]:
    texts = [*CLIENTS.values(), *(name for _n, name, _r in PARTIES)]
    texts += [text for _c, title, description in MATTERS.values() for text in (title, description) if text]
    texts += [text for _n, title, original_name, _c in DOCUMENTS for text in (title, original_name)]
    return texts


def assert_all_encrypted(stored: dict) -> None:
    """No value or file in clear; indexes filled; every value and document reads back as it was."""
    for model, columns in ENCRYPTED.items():
        for row in raw_rows(model, *columns):
            for value in row:
                assert value == "" or value.startswith(PREFIX), f"{model._meta.label} holds a value in clear"
    secrets = plaintexts() + [hashlib.sha256(content).hexdigest() for _n, content in stored.values()]
    dump = repr(snapshot()["columns"])
    assert not [text for text in secrets if text in dump]

    assert sorted(raw_rows(Client, "name_index")) == sorted((blind_index(name),) for name in CLIENTS.values())
    assert sorted(raw_rows(Party, "name_index")) == sorted((blind_index(name),) for _m, name, _r in PARTIES)
    assert {client.code: client.name for client in Client.objects.all()} == CLIENTS
    assert {
        matter.number: (matter.client.code, matter.title, matter.description) for matter in Matter.objects.all()
    } == (MATTERS)
    assert sorted((p.matter.number, p.name, p.role) for p in Party.objects.all()) == sorted(PARTIES)

    storage = storages["documents"]
    for document_id, (old_name, content) in stored.items():
        document = Document.objects.get(pk=document_id)
        assert not storage.exists(old_name), "the file in clear is still on disk"
        with storage.open(document.file.name, "rb") as raw:
            encrypted = raw.read()
        assert encrypted.startswith(streams.MAGIC)
        assert content not in encrypted
        with document.file.open_plaintext() as plain:
            assert plain.read() == content
        assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert all(content.startswith(streams.MAGIC) for content in snapshot()["files"].values()), "a file in clear"


def test_migrating_an_old_database_encrypts_every_value_and_document_in_place(old_database, migrate_to, login):
    migrate_to(latest_nodes(MigrationExecutor(connection)))

    assert_all_encrypted(old_database)
    # The blind index finds what the old data held, whatever the spacing and width typed.
    assert Client.objects.filter(name_index=blind_index("张三")).get().code == "C-OLD-2"
    assert Party.objects.filter(name_index=blind_index("ORION  semiconductor ltd.")).count() == 1

    alice = UserFactory(username="alice", first_name="Alice", last_name="Test")
    enroll(alice)
    matter = Matter.objects.get(number="2019-LIT-0007")
    grant(alice, matter, GrantLevel.DOWNLOAD)
    browser = login(alice)
    page = browser.get(reverse("matters:detail", args=[matter.pk])).content.decode()
    assert "Huaxin v. Orion Semiconductor — patent infringement" in page
    assert "Orion Semiconductor Ltd." in page
    assert "Engagement letter" in page
    letter = matter.documents.get(size=len(DOCUMENTS[1][3]))
    response = browser.get(reverse("matters:document_download", args=[letter.pk]))
    assert b"".join(response.streaming_content) == DOCUMENTS[1][3]


def test_encrypting_again_changes_nothing(old_database, migrate_to, capsys):
    migrate_to(latest_nodes(MigrationExecutor(connection)))
    before = snapshot()

    assert services.encrypt_plaintext() == {"values": 0, "files": 0}
    call_command("encrypt_plaintext")

    assert "Nothing was stored in clear" in capsys.readouterr().out
    assert snapshot() == before


def fail_on_second_call(monkeypatch, name: str) -> None:
    """Make ``vault.services.<name>`` do its work and then fail, from its second call on
    (a crash part-way, after the first batch has committed)."""
    original, calls = getattr(services, name), []

    def failing(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("interrupted")
        return result

    monkeypatch.setattr(services, name, failing)


def is_consistent(model, columns) -> bool:
    """Each row wholly encrypted, its indexes filled, or wholly as it was, its indexes empty."""
    indexes = INDEXES.get(model, {})
    for row in raw_rows(model, *columns, *indexes):
        values = dict(zip(columns, row[: len(columns)], strict=True))
        encrypted = {value.startswith(PREFIX) for value in values.values() if value}
        if len(encrypted) > 1:
            return False
        for source, value in zip(indexes.values(), row[len(columns) :], strict=True):
            if values[source] and bool(value) != values[source].startswith(PREFIX):
                return False
    return True


@pytest.mark.parametrize(
    "interrupted_in",
    ["_encrypt_row", "_rewrite_file"],
    ids=["after-the-first-row", "after-an-encrypted-copy-of-a-document-was-written"],
)
def test_an_interrupted_run_leaves_a_consistent_database_that_a_second_run_completes(
    old_database, migrate_to, monkeypatch, interrupted_in
):
    # The new schema without its data migration: the values are still in clear.
    migrate_to([("matters", "0002_encrypted_fields")])
    with monkeypatch.context() as patch, pytest.raises(RuntimeError, match="interrupted"):
        fail_on_second_call(patch, interrupted_in)
        services.encrypt_plaintext(batch_size=1)

    first_values = [row[0] for model, columns in ENCRYPTED.items() for row in raw_rows(model, columns[0])]
    assert {value.startswith(PREFIX) for value in first_values} == {True, False}, "stopped part-way"
    for model, columns in ENCRYPTED.items():
        assert is_consistent(model, columns), model._meta.label
    storage = storages["documents"]
    for title, name in raw_rows(Document, "title", "file"):
        # Every row names a file that is there, encrypted exactly when the row is.
        with storage.open(name, "rb") as stored:
            assert (stored.read(len(streams.MAGIC)) == streams.MAGIC) == title.startswith(PREFIX)

    keyring.clear_cache()
    counts = services.encrypt_plaintext(batch_size=1)

    assert counts["values"] > 0
    assert counts["files"] >= 1
    migrate_to(latest_nodes(MigrationExecutor(connection)))
    assert_all_encrypted(old_database)
