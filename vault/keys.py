"""Key-encryption keys (KEKs): where they come from, and wrapping data keys with them.

A provider holds versioned KEKs and wraps or unwraps a data key under one of
them; the data keys themselves live (wrapped) in the database. The default
provider reads ``VAULT_KEKS`` ("1:<base64>,2:<base64>", or the file named by
``VAULT_KEKS_FILE``); a KMS provider would implement the same four methods and
be named in ``VAULT_KEY_PROVIDER``, so a KEK need never leave the KMS.
"""

from __future__ import annotations

import abc
import base64
import binascii
import os
import secrets
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

KEY_BYTES = 32
NONCE_BYTES = 12


class KeyUnavailable(Exception):
    """A key needed to read something is missing, retired or destroyed. The message names no data."""


def new_kek_text(version: int = 1) -> str:
    return f"{version}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


def new_blind_index_key_text() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def decode_key(text: str, name: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{name} is not valid base64.") from None
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{name} must be {KEY_BYTES} bytes (base64 of 32 random bytes), not {len(key)}.")
    return key


def parse_keks(text: str) -> dict[int, bytes]:
    """``"1:<base64>,2:<base64>"`` → {1: key, 2: key}; names the faulty entry, never its value."""
    keks: dict[int, bytes] = {}
    for position, item in enumerate(filter(None, (part.strip() for part in text.split(","))), start=1):
        version_text, sep, key_text = item.partition(":")
        if not sep or not version_text.strip().isdigit() or int(version_text) < 1:
            raise ImproperlyConfigured(
                f"VAULT_KEKS entry {position} must look like '<version>:<base64 key>' with a version of 1 or more."
            )
        version = int(version_text)
        if version in keks:
            raise ImproperlyConfigured(f"VAULT_KEKS lists version {version} twice.")
        keks[version] = decode_key(key_text, f"VAULT_KEKS version {version}")
    if not keks:
        raise ImproperlyConfigured("VAULT_KEKS holds no key.")
    return keks


class KeyProvider(abc.ABC):
    """The interface: versions held, which one wraps new keys, wrap and unwrap."""

    @abc.abstractmethod
    def versions(self) -> tuple[int, ...]: ...

    def current_version(self) -> int:
        return max(self.versions())

    @abc.abstractmethod
    def wrap(self, key: bytes, *, aad: bytes) -> tuple[int, bytes]:
        """Wrap ``key`` under the current version; returns (version, wrapped bytes)."""

    @abc.abstractmethod
    def unwrap(self, version: int, wrapped: bytes, *, aad: bytes) -> bytes:
        """The key ``wrapped`` under ``version``; raises KeyUnavailable if it does not authenticate."""


class EnvironmentKeyProvider(KeyProvider):
    """KEKs from settings (the environment): AES-256-GCM key wrap with a random nonce.

    AES-GCM rather than RFC 3394 key wrap so the data key's identity (``aad``) is
    authenticated with it: a wrapped key copied onto another key's row will not unwrap.
    """

    def __init__(self, keks: dict[int, bytes]):
        self._ciphers = {version: AESGCM(key) for version, key in keks.items()}

    @classmethod
    def from_settings(cls) -> EnvironmentKeyProvider:
        return cls(parse_keks(settings.VAULT_KEKS or ""))

    def versions(self) -> tuple[int, ...]:
        return tuple(sorted(self._ciphers))

    def wrap(self, key: bytes, *, aad: bytes) -> tuple[int, bytes]:
        version = self.current_version()
        nonce = secrets.token_bytes(NONCE_BYTES)
        return version, nonce + self._ciphers[version].encrypt(nonce, key, aad)

    def unwrap(self, version: int, wrapped: bytes, *, aad: bytes) -> bytes:
        cipher = self._ciphers.get(version)
        if cipher is None:
            raise KeyUnavailable(f"KEK version {version} is not configured (VAULT_KEKS).")
        try:
            return cipher.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
        except InvalidTag:
            raise KeyUnavailable(
                f"A data key wrapped under KEK version {version} failed authentication: "
                "the key row was altered or copied from another row, or the KEK is wrong."
            ) from None


@cache
def provider() -> KeyProvider:
    """The configured provider (built once per process; tests clear it with ``provider.cache_clear()``)."""
    factory = import_string(settings.VAULT_KEY_PROVIDER)
    return factory.from_settings() if hasattr(factory, "from_settings") else factory()


@cache
def blind_index_key() -> bytes:
    return decode_key(settings.VAULT_BLIND_INDEX_KEY or "", "VAULT_BLIND_INDEX_KEY")
