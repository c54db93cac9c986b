"""The envelope of an encrypted field value, and sealing/opening it.

Text form, so an encrypted field is an ordinary text column (and a plaintext
database converts in place)::

    "vault1:" + base64( key id: 8 bytes big-endian | nonce: 12 bytes | AES-256-GCM ciphertext and tag )

"vault1" is the format version. The associated data binds the ciphertext to
where it belongs — model, field and row — and to its key id, so a value
copied to another row or column, or re-labelled with another key, fails
to open with :class:`TamperedValue` instead of showing the wrong data.
"""

from __future__ import annotations

import binascii
import os

from cryptography.exceptions import InvalidTag

from vault.keyring import LiveKey, key_by_id

PREFIX = "vault1:"
_PREFIX_LENGTH = len(PREFIX)
_ID_BYTES = 8
_NONCE_BYTES = 12
_BODY = _ID_BYTES + _NONCE_BYTES


class TamperedValue(Exception):
    """An encrypted value failed authentication. The message says where, never what."""


class Envelope(str):
    """A sealed value on its way to the database (so the field passes it through unchanged)."""


def location(label: str, field: str, pk) -> bytes:
    return f"{label}|{field}|{pk}".encode()


def seal(key: LiveKey, plaintext: str, where: bytes) -> Envelope:
    key_id = key.id.to_bytes(_ID_BYTES)
    nonce = os.urandom(_NONCE_BYTES)
    body = key.cipher.encrypt(nonce, plaintext.encode(), where + b"|" + key_id)
    return Envelope(PREFIX + binascii.b2a_base64(key_id + nonce + body, newline=False).decode("ascii"))


def key_id_of(text: str) -> int:
    """The id of the key a stored value was sealed under (without opening it)."""
    raw = _decode(text, b"")
    return int.from_bytes(raw[:_ID_BYTES], "big")


def _decode(text: str, where: bytes) -> bytes:
    if not text.startswith(PREFIX):
        raise TamperedValue(f"{where.decode(errors='replace')}: stored value is not an encrypted envelope.")
    try:
        # binascii directly: the base64 module's wrappers double the cost of a short value.
        raw = binascii.a2b_base64(text[_PREFIX_LENGTH:], strict_mode=True)
    except (binascii.Error, ValueError):
        raise TamperedValue(f"{where.decode(errors='replace')}: stored envelope is malformed.") from None
    if len(raw) < _ID_BYTES + _NONCE_BYTES + 16:
        raise TamperedValue(f"{where.decode(errors='replace')}: stored envelope is truncated.")
    return raw


def open_envelope(text: str, where: bytes) -> str:
    """The plaintext of ``text`` stored at ``where``; raises TamperedValue or KeyUnavailable.

    Kept lean (memoryview slices, no copies): it runs for every value a page shows.
    """
    raw = _decode(text, where)
    key_id = raw[:_ID_BYTES]
    key = key_by_id(int.from_bytes(key_id))
    view = memoryview(raw)
    try:
        plaintext = key.cipher.decrypt(view[_ID_BYTES:_BODY], view[_BODY:], where + b"|" + key_id)
    except InvalidTag:
        raise TamperedValue(
            f"{where.decode(errors='replace')}: encrypted value failed authentication "
            "(altered, or moved here from another row or column)."
        ) from None
    return plaintext.decode()
