"""Blind indexes: exact-match search on encrypted values.

The index of a value is HMAC-SHA256, under ``VAULT_BLIND_INDEX_KEY``, of its
normalized form, truncated to 128 bits (hex). Equal values after normalization
give equal indexes, so a lookup is an ordinary indexed equality; without the
key, an index reveals nothing about the value (unlike a plain hash, which a
dictionary of names would reverse).

Normalization (docs/keys.md), the same for stored values and search terms:

- ``name``: Unicode NFKC (full-width letters, digits and punctuation become
  half-width; the ideographic space becomes a space), case folding, every
  punctuation mark read as a space ("Co.,Ltd." = "Co., Ltd." = "Co Ltd"),
  runs of whitespace collapsed to one space, and no whitespace between two CJK
  characters ("张 三" = "张三"; full-width brackets around 上海 = none), trimmed.
- ``identifier`` (ID card, passport, unified social credit code): NFKC, case
  folding, then only letters and digits kept (full-width "9131-0000 MA1" = "91310000ma1").

A kind is part of what is hashed, so a name never matches an identifier.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from functools import lru_cache

from vault.keys import blind_index_key

INDEX_LENGTH = 32  # hex characters: 128 bits

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")


def _is_punctuation(ch: str) -> bool:
    """Unicode's punctuation (categories P*): commas, full stops, brackets, dashes, apostrophes,
    the middle dot. Not symbols: "A+B" stays unlike "A B", full-width or not."""
    return unicodedata.category(ch).startswith("P")


# ASCII punctuation, read as spaces (str.translate: one pass, no per-character call).
_ASCII_PUNCTUATION = str.maketrans(dict.fromkeys((c for c in map(chr, range(128)) if _is_punctuation(c)), " "))


def normalize_name(value: str) -> str:
    # Punctuation counts for nothing: a company's name is written "Co., Ltd.", "Co.,Ltd." and
    # "Co. Ltd" alike, and a conflict check must not miss it for a comma (changing this means
    # recomputing the stored indexes: manage.py reindex_blind).
    # ASCII is already NFKC and holds no CJK: the common Latin name skips both steps.
    if value.isascii():
        return " ".join(value.translate(_ASCII_PUNCTUATION).casefold().split())
    text = unicodedata.normalize("NFKC", value).casefold()
    text = " ".join("".join(" " if _is_punctuation(ch) else ch for ch in text).split())
    return _SPACE_BETWEEN_CJK.sub("", text) if " " in text else text


def normalize_identifier(value: str) -> str:
    text = value if value.isascii() else unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in text.casefold() if ch.isalnum())


NORMALIZERS = {"name": normalize_name, "identifier": normalize_identifier}


def blind_index(value: str | None, kind: str = "name") -> str:
    """The index of ``value`` ("" for an empty value, which matches nothing)."""
    normalized = NORMALIZERS[kind](value or "")
    if not normalized:
        return ""
    mac = _keyed(blind_index_key()).copy()
    mac.update(kind.encode() + b"\x00" + normalized.encode())
    return mac.digest()[: INDEX_LENGTH // 2].hex()


@lru_cache(maxsize=4)
def _keyed(key: bytes) -> hmac.HMAC:
    # An HMAC with the key already absorbed, copied per value: setting the key up is most
    # of the cost of a one-shot hmac.digest() on a short value (3.8 µs against 1.4 here).
    return hmac.new(key, digestmod="sha256")
