"""Data keys in use: created on first need, unwrapped once, cached per process with a bound.

Two caches, both LRU-bounded (``VAULT_KEY_CACHE_SIZE``) and both re-read after
``VAULT_KEY_CACHE_SECONDS``, so a key destroyed or rotated by another process
stops being used here within that time (this process's own changes take effect
at once):

- key id → cipher, for decryption;
- owner → its active key, for encryption.

A key created inside a transaction becomes its owner's cached active key only
once that transaction commits: a rolled-back key must never be used for
anything written later.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from vault.keys import KEY_BYTES, KeyUnavailable, provider
from vault.models import DataKey, KeyState, RetiredKek, wrap_aad


class KeyDestroyed(KeyUnavailable):
    """The data key was crypto-shredded: what it protected is gone for good."""


@dataclass(frozen=True)
class LiveKey:
    id: int
    owner: str
    material: bytes
    cipher: AESGCM


class _TimedLRU:
    def __init__(self):
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        # No lock and no reordering on a hit (a value is opened for every field shown):
        # a dict read is atomic, and the bound is kept by put(), oldest entry first.
        item = self._items.get(key)
        if item is None:
            return None
        value, expires_at = item
        if time.monotonic() > expires_at:
            with self._lock:
                self._items.pop(key, None)
            return None
        return value

    def put(self, key, value) -> None:
        # The deadline is computed here: reading a Django setting costs more than the rest of a hit.
        expires_at = time.monotonic() + settings.VAULT_KEY_CACHE_SECONDS
        with self._lock:
            self._items[key] = (value, expires_at)
            self._items.move_to_end(key)
            while len(self._items) > settings.VAULT_KEY_CACHE_SIZE:
                self._items.popitem(last=False)

    def drop(self, predicate) -> None:
        with self._lock:
            for key in [k for k, (v, _t) in self._items.items() if predicate(k, v)]:
                del self._items[key]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_by_id = _TimedLRU()
_active = _TimedLRU()
_uncommitted: set[int] = set()


def clear_cache() -> None:
    _by_id.clear()
    _active.clear()
    _retired.clear()


def forget_owner(owner) -> None:
    """Drop every cached key of ``owner`` (after rotating or destroying its keys here)."""
    owner = str(owner)
    _by_id.drop(lambda _k, live: live.owner == owner)
    _active.drop(lambda k, _v: k == owner)


_retired = _TimedLRU()


def _retired_versions() -> set[int]:
    versions = _retired.get("versions")
    if versions is None:
        versions = frozenset(RetiredKek.objects.values_list("version", flat=True))
        _retired.put("versions", versions)
    return versions


def preload(key_ids) -> None:
    """Unwrap, in one query, whichever of ``key_ids`` are not cached (before opening many values)."""
    missing = {key_id for key_id in key_ids if _by_id.get(key_id) is None}
    if not missing:
        return
    for row in DataKey.objects.filter(pk__in=missing):
        try:
            live = unwrap(row)
        except KeyUnavailable:
            continue  # reported when the value itself is opened
        _remember(live, active=row.state == KeyState.ACTIVE)


def unwrap(row: DataKey) -> LiveKey:
    if row.state == KeyState.DESTROYED:
        raise KeyDestroyed(f"Data key {row.id} was destroyed (crypto-shredded).")
    if row.wrapped is None or row.kek_version is None:
        raise KeyUnavailable(f"Data key {row.id} is retired: nothing should still be encrypted under it.")
    if row.kek_version in _retired_versions():
        raise KeyUnavailable(f"KEK version {row.kek_version} is retired; data key {row.id} was not rewrapped.")
    material = provider().unwrap(row.kek_version, bytes(row.wrapped), aad=wrap_aad(row.id, row.owner))
    return LiveKey(row.id, str(row.owner), material, AESGCM(material))


def _remember(live: LiveKey, *, active: bool) -> None:
    # For decryption a key may be cached at once: if its transaction rolls back, nothing
    # refers to it any more. As the owner's key for new data, only once it is committed.
    _by_id.put(live.id, live)
    if not active:
        return
    if live.id in _uncommitted:
        transaction.on_commit(lambda: _uncommitted.discard(live.id) or _active.put(live.owner, live))
    else:
        _active.put(live.owner, live)


def key_by_id(key_id: int) -> LiveKey:
    """The key that encrypted something, for decrypting it; raises KeyUnavailable/KeyDestroyed."""
    live = _by_id.get(key_id)
    if live is not None:
        return live
    row = DataKey.objects.filter(pk=key_id).first()
    if row is None:
        raise KeyUnavailable(f"Data key {key_id} does not exist.")
    live = unwrap(row)
    _remember(live, active=row.state == KeyState.ACTIVE)
    return live


def fresh_key_by_id(key_id: int) -> LiveKey:
    """As key_by_id, but reading the key's state now: for documents, which are served at length."""
    row = DataKey.objects.filter(pk=key_id).first()
    if row is None:
        raise KeyUnavailable(f"Data key {key_id} does not exist.")
    return unwrap(row)


def active_key(owner) -> LiveKey:
    """The key new data of ``owner`` is encrypted under, made on first need."""
    owner = str(owner)
    live = _active.get(owner)
    if live is not None:
        return live
    row = DataKey.objects.filter(owner=owner, state=KeyState.ACTIVE).first()
    if row is None:
        if DataKey.objects.filter(owner=owner, state=KeyState.DESTROYED).exists():
            raise KeyDestroyed("This client's keys were destroyed; nothing more can be stored for it.")
        row = _create_key(owner)
    live = unwrap(row)
    _remember(live, active=True)
    return live


def new_data_key(owner, state: KeyState = KeyState.ACTIVE) -> DataKey:
    """A fresh random key for ``owner``, wrapped under the current KEK version, saved."""
    row = DataKey(owner=owner, state=state)
    material = os.urandom(KEY_BYTES)
    row.kek_version, row.wrapped = provider().wrap(material, aad=wrap_aad(row.id, owner))
    row.save(force_insert=True)
    _uncommitted.add(row.id)
    transaction.on_commit(lambda: _uncommitted.discard(row.id))
    return row


def _create_key(owner: str) -> DataKey:
    try:
        with transaction.atomic():
            return new_data_key(owner)
    except IntegrityError:
        # Another request made this owner's first key at the same moment: use theirs.
        return DataKey.objects.get(owner=owner, state=KeyState.ACTIVE)


def destroy_keys(owner) -> int:
    """Crypto-shred: erase every key of ``owner``. Returns how many keys were destroyed."""
    count = (
        DataKey.objects.filter(owner=owner)
        .exclude(state=KeyState.DESTROYED)
        .update(state=KeyState.DESTROYED, wrapped=None, kek_version=None, destroyed_at=timezone.now())
    )
    forget_owner(owner)
    transaction.on_commit(lambda: forget_owner(owner))
    return count
