"""Documents are encrypted as streams of sealed segments; any change to a stored file is refused.

Small segments (64 bytes) make every boundary easy to reach. The stream tests
use vault.streams directly with a key made here; the file-field tests go
through ``EncryptedFieldFile`` and the download view, as a stored document would.
"""

from __future__ import annotations

import io
import os
import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.files.base import ContentFile
from django.urls import reverse

from access.models import GrantLevel
from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from tests.factories import ClientFactory, MatterFactory, grant, make_document
from vault import streams
from vault.files import EncryptedFieldFile
from vault.keyring import LiveKey
from vault.streams import HEADER_SIZE, TAG, TamperedFile

SEGMENT = 64
SEALED = SEGMENT + TAG
BINDING = b"matters.document|file|7f6e5d4c"
OWNER = "5f0c3b8e-2b7a-4c1e-9d3f-0a1b2c3d4e5f"


def live_key(key_id: int) -> LiveKey:
    material = os.urandom(32)
    return LiveKey(key_id, OWNER, material, AESGCM(material))


KEY, OTHER_KEY = live_key(101), live_key(202)
KEYS = {KEY.id: KEY, OTHER_KEY.id: OTHER_KEY}


def key_for(key_id: int) -> LiveKey:
    return KEYS[key_id]


def encrypt(plaintext: bytes, *, key: LiveKey = KEY, binding: bytes = BINDING) -> bytes:
    return b"".join(streams.encrypt_segments(io.BytesIO(plaintext), key, binding, SEGMENT))


def decrypt(stored: bytes, *, binding: bytes = BINDING) -> bytes:
    return b"".join(streams.decrypt_segments(io.BytesIO(stored), key_for, binding))


def segments_of(stored: bytes) -> tuple[bytes, list[bytes]]:
    body = stored[HEADER_SIZE:]
    return stored[:HEADER_SIZE], [body[i : i + SEALED] for i in range(0, len(body), SEALED)]


def assert_refused(stored: bytes, *, binding: bytes = BINDING) -> None:
    with pytest.raises(TamperedFile):
        decrypt(stored, binding=binding)


PLAINTEXT = bytes(range(256)) * 2 + b"tail"  # 516 bytes: eight full segments and a short last one


# --- round trip ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 5 * SEGMENT + 17], ids=lambda n: f"{n}-bytes"
)
def test_a_stream_decrypts_to_exactly_what_was_encrypted(size):
    plaintext = os.urandom(size)

    stored = encrypt(plaintext)

    assert decrypt(stored) == plaintext
    assert len(stored) == streams.encrypted_size(size, SEGMENT)
    if size >= 16:
        assert plaintext not in stored


def test_the_same_content_encrypts_differently_each_time():
    assert encrypt(PLAINTEXT) != encrypt(PLAINTEXT)


# --- truncation, reordering, extension ---------------------------------------------------------


def test_a_file_cut_at_a_segment_boundary_is_refused():
    header, segments = segments_of(encrypt(PLAINTEXT))

    for kept in range(1, len(segments)):
        assert_refused(header + b"".join(segments[:kept]))


def test_a_file_cut_to_its_header_alone_is_refused():
    assert_refused(encrypt(PLAINTEXT)[:HEADER_SIZE])


@pytest.mark.parametrize("cut", [1, TAG, TAG + 1, SEALED // 2], ids=lambda n: f"{n}-bytes-off")
def test_a_file_cut_in_its_last_segment_is_refused(cut):
    assert_refused(encrypt(PLAINTEXT)[:-cut])


def test_a_file_cut_in_the_middle_of_an_earlier_segment_is_refused():
    assert_refused(encrypt(PLAINTEXT)[: HEADER_SIZE + 3 * SEALED + SEALED // 2])


def test_a_header_cut_short_is_refused():
    assert_refused(encrypt(PLAINTEXT)[: HEADER_SIZE - 1])


@pytest.mark.parametrize(("i", "j"), [(0, 1), (2, 5), (6, 8)])  # 8 is the last, shorter segment
def test_reordered_segments_are_refused(i, j):
    header, segments = segments_of(encrypt(PLAINTEXT + b"x" * (SEGMENT - 4)))  # nine full segments
    segments[i], segments[j] = segments[j], segments[i]

    assert_refused(header + b"".join(segments))


def test_a_duplicated_segment_is_refused():
    header, segments = segments_of(encrypt(PLAINTEXT))

    assert_refused(header + b"".join([*segments[:3], segments[2], *segments[3:]]))
    assert_refused(header + b"".join([*segments, segments[-1]]))


def test_a_final_segment_of_another_file_under_the_same_key_appended_is_refused():
    stored = encrypt(PLAINTEXT)
    _other_header, other_segments = segments_of(encrypt(b"appendix" * 5))

    assert_refused(stored + other_segments[-1])


def test_another_file_under_the_same_key_with_this_header_is_refused():
    header, _segments = segments_of(encrypt(PLAINTEXT))
    _other_header, other_segments = segments_of(encrypt(PLAINTEXT))

    assert_refused(header + b"".join(other_segments))


@pytest.mark.parametrize("extra", [b"\x00", os.urandom(TAG), os.urandom(SEALED), os.urandom(SEALED + 5)], ids=len)
def test_bytes_appended_after_the_last_segment_are_refused(extra):
    assert_refused(encrypt(PLAINTEXT) + extra)


def test_bytes_appended_to_an_empty_file_are_refused():
    assert_refused(encrypt(b"") + b"\x00" * TAG)


@pytest.mark.parametrize(
    "offset",
    [HEADER_SIZE, HEADER_SIZE + SEALED + 7, HEADER_SIZE + 4 * SEALED - 1, -1],
    ids=["first-byte", "second-segment", "end-of-a-tag", "last-byte"],
)
def test_a_flipped_bit_anywhere_in_a_segment_is_refused(offset):
    stored = bytearray(encrypt(PLAINTEXT))
    stored[offset] ^= 0x04

    assert_refused(bytes(stored))


# --- the header ------------------------------------------------------------------------------------


def _with_header(stored: bytes, **changes) -> bytes:
    magic, version, segment_size, key_id, salt = struct.unpack(">4sBIQ16s4x", stored[:HEADER_SIZE])
    fields = {"magic": magic, "version": version, "segment_size": segment_size, "key_id": key_id, "salt": salt}
    fields.update(changes)
    header = struct.pack(">4sBIQ16s4x", *fields.values())
    return header + stored[HEADER_SIZE:]


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"key_id": OTHER_KEY.id}, id="key-id-of-another-key"),
        pytest.param({"salt": b"\x00" * 16}, id="salt"),
        pytest.param({"segment_size": SEGMENT // 2}, id="smaller-segment-size"),
        pytest.param({"segment_size": SEGMENT * 2}, id="larger-segment-size"),
        pytest.param({"segment_size": 0}, id="zero-segment-size"),
        pytest.param({"segment_size": streams.MAX_SEGMENT + 1}, id="segment-size-over-the-limit"),
        pytest.param({"magic": b"CSTW"}, id="magic"),
        pytest.param({"version": 2}, id="format-version"),
    ],
)
def test_an_altered_header_is_refused(changes):
    assert_refused(_with_header(encrypt(PLAINTEXT), **changes))


def test_altered_reserved_header_bytes_are_refused():
    stored = bytearray(encrypt(PLAINTEXT))
    stored[HEADER_SIZE - 1] ^= 0x01

    assert_refused(bytes(stored))


def test_a_file_bound_to_another_document_is_refused():
    assert_refused(encrypt(PLAINTEXT, binding=b"matters.document|file|other"))


# --- through the file field and the download ------------------------------------------------------


@pytest.fixture
def small_segments(settings):
    settings.VAULT_SEGMENT_KIB = 1
    return 1024


@pytest.fixture
def document(db, small_segments):
    return make_document(MatterFactory(), title="Segments", name="segments.txt", content=b"first version\n")


def stored_bytes(field_file: EncryptedFieldFile) -> bytes:
    with field_file.storage.open(field_file.name, "rb") as stored:
        return stored.read()


def overwrite(field_file: EncryptedFieldFile, data: bytes) -> None:
    with open(field_file.path, "wb") as stored:
        stored.write(data)


def read_plaintext(field_file: EncryptedFieldFile) -> bytes:
    with field_file.open_plaintext() as plaintext:
        return plaintext.read()


@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 1025, 3 * 1024 + 5], ids=lambda n: f"{n}-bytes")
def test_a_document_file_reads_back_exactly_what_was_stored(document, small_segments, size):
    content = os.urandom(size)

    document.file.save(str(document.pk), ContentFile(content), save=True)

    assert read_plaintext(document.file) == content
    stored = stored_bytes(document.file)
    assert len(stored) == streams.encrypted_size(size, small_segments)
    assert document.file.key_id() == streams.read_header(io.BytesIO(stored))[1]


def test_a_file_swapped_between_two_documents_of_one_client_is_refused(db, small_segments):
    matter = MatterFactory(client=ClientFactory())
    ours = make_document(matter, title="Ours", name="ours.txt", content=b"our document\n" * 200)
    theirs = make_document(matter, title="Theirs", name="theirs.txt", content=b"their document\n" * 200)
    assert ours.file.key_id() == theirs.file.key_id()  # same client, same data key

    overwrite(theirs.file, stored_bytes(ours.file))

    with pytest.raises(TamperedFile):
        read_plaintext(theirs.file)
    assert read_plaintext(ours.file) == b"our document\n" * 200


def test_a_file_swapped_between_documents_of_two_matters_of_one_client_is_refused(db, small_segments):
    client = ClientFactory()
    ours = make_document(MatterFactory(client=client), title="Ours", name="ours.txt", content=b"ours\n")
    theirs = make_document(MatterFactory(client=client), title="Theirs", name="theirs.txt", content=b"theirs\n")

    overwrite(theirs.file, stored_bytes(ours.file))

    with pytest.raises(TamperedFile):
        read_plaintext(theirs.file)


CONTENT = b"Heads of terms: price 7,500,000; exclusivity 60 days.\n" * 60  # about 3 KiB: three segments


@pytest.fixture
def downloadable(alice, small_segments):
    matter = MatterFactory()
    grant(alice, matter, GrantLevel.DOWNLOAD)
    return make_document(matter, title="Heads of terms", name="heads.txt", content=CONTENT)


def _download(browser, document):
    browser.raise_request_exception = False
    return browser.get(reverse("matters:document_download", args=[document.pk]))


def test_a_download_of_an_untouched_document_serves_its_content(downloadable, alice, login):
    response = _download(login(alice), downloadable)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda data: data[:HEADER_SIZE] + bytes([data[HEADER_SIZE] ^ 1]) + data[HEADER_SIZE + 1 :],
                     id="first-segment-altered"),
        pytest.param(lambda data: _with_header(data, salt=b"\x01" * 16), id="header-altered"),
        pytest.param(lambda data: data[: HEADER_SIZE + 10], id="cut-inside-the-first-segment"),
        pytest.param(lambda data: b"%PDF-1.4 a plaintext file put in its place\n", id="replaced-by-plaintext"),
    ],
)  # fmt: skip
def test_a_tampered_document_is_not_served_and_the_failure_is_recorded(downloadable, alice, login, tamper):
    overwrite(downloadable.file, tamper(stored_bytes(downloadable.file)))

    response = _download(login(alice), downloadable)

    assert response.status_code == 500
    assert not response.streaming
    assert b"Heads of terms: price" not in response.content
    assert "This document cannot be read" in response.content.decode()
    failure = AuditEvent.objects.get(action=AuditAction.DOCUMENT_DOWNLOAD)
    assert failure.outcome == Outcome.FAILURE
    assert failure.document_id == downloadable.pk


def test_a_later_segment_altered_cuts_the_download_off_before_the_whole_file(downloadable, alice, login):
    data = bytearray(stored_bytes(downloadable.file))
    data[-5] ^= 0x10  # inside the last segment
    overwrite(downloadable.file, bytes(data))

    response = _download(login(alice), downloadable)
    served = b""
    with pytest.raises(TamperedFile):
        for chunk in response.streaming_content:
            served += chunk

    assert served != CONTENT
    assert len(served) < len(CONTENT)


# --- read-ahead -------------------------------------------------------------------------------------


def _read_ahead_threads() -> list:
    import threading

    return [thread for thread in threading.enumerate() if thread.name == "vault-read-ahead" and thread.is_alive()]


def test_a_download_dropped_half_way_stops_its_read_ahead_and_closes_the_file(document):
    content = os.urandom(20 * 1024)  # twenty 1 KiB segments: the read-ahead is still working at the first read
    document.file.save(str(document.pk), ContentFile(content), save=True)

    reader = document.file.open_plaintext()
    assert reader.read(1024) == content[:1024]
    reader.close()

    assert _read_ahead_threads() == []


def test_a_segment_altered_late_in_the_file_is_raised_to_the_reader_not_lost_in_the_read_ahead(document):
    content = os.urandom(20 * 1024)
    document.file.save(str(document.pk), ContentFile(content), save=True)
    data = bytearray(stored_bytes(document.file))
    data[-40] ^= 1  # inside the last segment
    overwrite(document.file, bytes(data))

    with document.file.open_plaintext() as reader, pytest.raises(TamperedFile):
        while reader.read(1024):
            pass
    assert _read_ahead_threads() == []
