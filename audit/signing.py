"""The Ed25519 key that signs checkpoints, read from the environment.

``AUDIT_SIGNING_KEY`` holds the private key as base64 of its 32 raw bytes (or a
PEM); verification trusts its public key and any retired ones listed in
``AUDIT_TRUSTED_PUBLIC_KEYS`` — never a key stored in the database, which whoever
rewrote the chain could have replaced.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SigningKeyMissing(ImproperlyConfigured):
    pass


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short name for a public key: the start of the SHA-256 of its raw bytes."""
    return hashlib.sha256(_raw_public(key)).hexdigest()[:16]


def public_key_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(_raw_public(key)).decode()


@functools.cache
def _load_private(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured("AUDIT_SIGNING_KEY is not an Ed25519 key.")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ImproperlyConfigured("AUDIT_SIGNING_KEY is not valid base64.") from None
    if len(raw) != 32:
        raise ImproperlyConfigured("AUDIT_SIGNING_KEY must be 32 bytes (base64 of an Ed25519 private key).")
    return Ed25519PrivateKey.from_private_bytes(raw)


def signing_key() -> Ed25519PrivateKey:
    if not settings.AUDIT_SIGNING_KEY:
        raise SigningKeyMissing("AUDIT_SIGNING_KEY is not set: checkpoints cannot be signed.")
    return _load_private(settings.AUDIT_SIGNING_KEY)


def trusted_public_keys() -> dict[str, Ed25519PublicKey]:
    keys = {}
    if settings.AUDIT_SIGNING_KEY:
        public = signing_key().public_key()
        keys[key_id(public)] = public
    for text in settings.AUDIT_TRUSTED_PUBLIC_KEYS:
        try:
            public = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(
                "AUDIT_TRUSTED_PUBLIC_KEYS holds a value that is not an Ed25519 public key."
            ) from None
        keys[key_id(public)] = public
    return keys


def verify_signature(key_name: str, signature: bytes, message: bytes) -> bool:
    public = trusted_public_keys().get(key_name)
    if public is None:
        return False
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def new_private_key_text() -> str:
    """A fresh key, as AUDIT_SIGNING_KEY takes it (used by the demo and `manage.py audit_key`)."""
    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode()
