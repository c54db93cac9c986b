"""The acceptance test of encryption at rest: a copy of the database or the document store reveals nothing.

Records and documents are made through the factories and the upload service with
distinctive values, Chinese and ASCII. Then every column of every table is read
with raw SQL, the SQLite file's bytes (or a ``pg_dump``) are searched, and so is
every stored document file: none holds any of the values. An authorized user
still sees every one of them on the pages, as before.

Each scan also looks for a value stored in clear on purpose (the client code), so
a scan that read nothing, or the wrong database, fails instead of passing.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from access.models import GrantLevel
from matters.models import IdentifierType, PartyRole
from tests.factories import ClientFactory, MatterFactory, PartyFactory, grant, make_document

pytestmark = pytest.mark.django_db(transaction=True)

# Stored in clear on purpose (codes and numbers are the labels used where names may not be).
CANARY = "C-MZ-CANARY-7"

CLIENT = {
    "name": "上海明珠贸易有限公司",
    "id_number": "91310000MA1FL8XQ3K",
    "contact_name": "王晓明",
    "contact_email": "wang.xiaoming@mingzhu-trade.example",
    "contact_phone": "+86 21 6688 0427",
    "address": "上海市浦东新区世纪大道八十八号 Bluefinch Tower",
    "legal_hold_reason": "Subpoena from Quillfeather arbitration panel",
}
ASCII_CLIENT = {
    "name": "Quillfeather Ironworks LLC",
    "id_number": "X7Q4417203",
    "contact_email": "ops@quillfeather.example",
}
MATTER = {
    "title": "明珠并购项目 Project Bluefinch",
    "description": "Acquisition of Wrenfield Optics by 上海明珠 for a sum still secret",
    "notes": "Partner memo: Wrenfield founder wants an earn-out 对赌条款",
}
ASCII_MATTER = {"title": "Quillfeather boiler explosion claim"}
PARTY = {"name": "Zephyrine Holdings 李雷", "id_number": "G55012873"}
ASCII_PARTY = {"name": "Marchbank Salvage Partners", "id_number": "E88310542"}
DOCUMENTS = [
    # (title, original file name, content); the first spans several segments of the test's size.
    (
        "条款清单 Bluefinch term sheet",
        "bluefinch-termsheet-机密.txt",
        "明珠机密合同正文 Bluefinch purchase price 88,000,000 RMB.\n".encode() * 200,
    ),
    ("Quillfeather settlement draft", "quillfeather-settlement.pdf", b"%PDF-1.4\nQuillfeather pays Marchbank 4.2m\n"),
]
# Phrases inside the contents, looked for on their own too.
CONTENT_PHRASES = ["明珠机密合同正文", "Bluefinch purchase price", "Quillfeather pays Marchbank"]


def plaintexts() -> list[str]:
    values = [
        *CLIENT.values(),
        *ASCII_CLIENT.values(),
        *MATTER.values(),
        *ASCII_MATTER.values(),
        *PARTY.values(),
        *ASCII_PARTY.values(),
        *CONTENT_PHRASES,
    ]
    for title, name, content in DOCUMENTS:
        values += [title, name, content.decode().splitlines()[0]]
    return values


@pytest.fixture
def world(alice, settings):
    """Two clients with a matter each, parties and documents, all through the factories and the upload service."""
    settings.VAULT_SEGMENT_KIB = 4  # the first document spans three segments
    client = ClientFactory(code=CANARY, id_type=IdentifierType.USCC, **CLIENT)
    matter = MatterFactory(client=client, responsible_partner=alice, **MATTER)
    PartyFactory(matter=matter, role=PartyRole.ADVERSE, id_type=IdentifierType.PASSPORT, **PARTY)
    other = MatterFactory(client=ClientFactory(id_type=IdentifierType.OTHER, **ASCII_CLIENT), **ASCII_MATTER)
    PartyFactory(matter=other, role=PartyRole.RELATED, id_type=IdentifierType.OTHER, **ASCII_PARTY)
    grant(alice, matter, GrantLevel.MANAGE)
    grant(alice, other, GrantLevel.MANAGE)
    documents = [
        make_document(target, title=title, name=name, content=content, uploader=alice)
        for target, (title, name, content) in zip((matter, other), DOCUMENTS, strict=True)
    ]
    return {"matter": matter, "other": other, "documents": documents}


def _texts_of(value) -> list[str]:
    """A column value as the texts a reader of the database could see in it."""
    if value is None:
        return []
    if isinstance(value, bytes | memoryview | bytearray):
        return [bytes(value).decode("utf-8", errors="replace")]
    if isinstance(value, dict | list):
        return [json.dumps(value, ensure_ascii=False)]
    texts = [str(value)]
    if isinstance(value, str) and value[:1] in "[{":
        with contextlib.suppress(ValueError):  # JSON kept as text, with its \\u escapes decoded
            texts.append(json.dumps(json.loads(value), ensure_ascii=False))
    return texts


def every_column_value() -> dict[str, list[str]]:
    """Every column of every table, read with raw SQL: table → the texts in it."""
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [column.name for column in connection.introspection.get_table_description(cursor, table)]
            quoted = ", ".join(connection.ops.quote_name(name) for name in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")  # noqa: S608  (introspected names)
            found[table] = [text for row in cursor.fetchall() for value in row for text in _texts_of(value)]
    return found


def leaked_in(blob: bytes, *, hex_too: bool = False) -> list[str]:
    """The plaintext values whose UTF-8 bytes (or, for a dump's bytea, their hex) occur in ``blob``."""
    leaked = []
    for value in plaintexts():
        encoded = value.encode()
        if encoded in blob or (hex_too and encoded.hex().encode() in blob.lower()):
            leaked.append(value)
    return leaked


def test_no_column_of_any_table_holds_a_plaintext_value(world):
    tables = every_column_value()

    assert {"matters_client", "matters_matter", "matters_party", "matters_document"} <= set(tables)
    assert any(CANARY in text for text in tables["matters_client"]), "the scan did not read the client rows"
    leaks = {
        (table, value)
        for table, texts in tables.items()
        for value in plaintexts()
        for text in texts
        if value.casefold() in text.casefold()
    }
    assert leaks == set()


def _sqlite_bytes() -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # a no-op unless the database runs in WAL mode
    path = Path(connection.settings_dict["NAME"])
    return b"".join(
        candidate.read_bytes()
        for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal"))
        if candidate.exists()
    )


def test_the_sqlite_database_file_holds_no_plaintext_value(world):
    if connection.vendor != "sqlite":
        pytest.skip("the database is not an SQLite file")

    data = _sqlite_bytes()

    assert CANARY.encode() in data, "the rows were not in the file that was read"
    assert leaked_in(data) == []


@pytest.mark.postgres
def test_a_pg_dump_holds_no_plaintext_value(world):
    db = connection.settings_dict
    command = ["/usr/bin/pg_dump", "--no-owner", "--dbname", db["NAME"]]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            command += [option, str(db[key])]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}

    dump = subprocess.run(command, capture_output=True, env=env, check=True, timeout=120).stdout  # noqa: S603

    assert CANARY.encode() in dump, "the dump holds none of the rows"
    assert leaked_in(dump, hex_too=True) == []


def test_the_stored_document_files_hold_neither_content_nor_names(world):
    root = Path(settings.STORAGES["documents"]["OPTIONS"]["location"])
    stored = [path for path in root.rglob("*") if path.is_file()]

    assert len(stored) == len(DOCUMENTS)
    for path in stored:
        name = str(path.relative_to(root))
        assert [value for value in plaintexts() if value in name] == []
        assert leaked_in(path.read_bytes()) == []


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_an_authorized_user_still_sees_every_value_as_before(world, alice, login):
    client = login(alice)
    matter, documents = world["matter"], world["documents"]

    listing = _page(client, reverse("matters:list"))
    detail = _page(client, matter.get_absolute_url())
    document_page = _page(client, reverse("matters:document_detail", args=[documents[0].pk]))
    download = client.get(reverse("matters:document_download", args=[documents[0].pk]))

    for value in (MATTER["title"], CLIENT["name"], ASCII_MATTER["title"], ASCII_CLIENT["name"]):
        assert value in listing
    for value in (MATTER["title"], MATTER["description"], CLIENT["name"], PARTY["name"], *DOCUMENTS[0][:2]):
        assert value in detail
    for value in (*DOCUMENTS[0][:2], MATTER["title"]):
        assert value in document_page
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == DOCUMENTS[0][2]
