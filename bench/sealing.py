"""Encrypt generated rows in place, in bulk: what ``vault.services.encrypt_plaintext`` does, set-based.

``encrypt_plaintext`` is made for a live database: one ``UPDATE`` per row
through the ORM, each batch its own transaction. On generated data that is
about 2,000 rows/s (bench/README.md, "Vault"), over five minutes for a
full-scale firm. Here the values are sealed in Python exactly as the
encrypted fields seal them (``vault.envelope.seal`` under the owner's data key,
the row's primary key in the associated data), blind indexes come from
``vault.blind.blind_index``, and each batch is written back with one
``UPDATE … FROM unnest(…)``.

Data keys for many owners are made in bulk too (wrapped under the current KEK
exactly as ``vault.keyring.new_data_key`` wraps them, inserted with one
statement per batch).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable

BATCH = 5000


def create_data_keys(owners: Iterable, *, batch: int = 10_000):
    """An active data key for each of ``owners`` (none may have one), inserted in bulk; returns owner → LiveKey."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from django.db import connection

    from vault.keyring import LiveKey
    from vault.keys import KEY_BYTES, provider
    from vault.models import DataKey, KeyState, _random_key_id, wrap_aad

    kek = provider()
    live: dict[str, LiveKey] = {}
    pending: list[tuple[int, str, int, bytes]] = []

    def flush():
        if not pending:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {DataKey._meta.db_table} (id, owner, state, kek_version, wrapped, created_at) "
                "SELECT k.id, k.owner, %s, k.version, k.wrapped, now() "
                "FROM unnest(%s::bigint[], %s::uuid[], %s::int[], %s::bytea[]) AS k(id, owner, version, wrapped)",
                [KeyState.ACTIVE.value, *map(list, zip(*pending, strict=True))],
            )
        pending.clear()

    for owner in owners:
        owner = str(owner)
        key_id, material = _random_key_id(), os.urandom(KEY_BYTES)
        version, wrapped = kek.wrap(material, aad=wrap_aad(key_id, owner))
        pending.append((key_id, owner, version, wrapped))
        live[owner] = LiveKey(key_id, owner, material, AESGCM(material))
        if len(pending) >= batch:
            flush()
    flush()
    return live


def _owner_sql(model) -> tuple[str, str]:
    """(join clause, owner column) following ``model.vault_owner`` ("pk", "client_id", "matter__client_id")."""
    path = model.vault_owner.split("__")
    if path == ["pk"]:
        return "", f"t.{model._meta.pk.column}"
    if len(path) == 1:
        return "", f"t.{model._meta.get_field(path[0]).column}"
    if len(path) == 2:
        relation = model._meta.get_field(path[0])
        target = relation.related_model
        join = f"JOIN {target._meta.db_table} o ON o.{target._meta.pk.column} = t.{relation.column}"
        return join, f"o.{target._meta.get_field(path[1]).column}"
    raise ValueError(f"{model._meta.label}.vault_owner is deeper than the bench handles: {model.vault_owner}")


def encrypt_table(model, keys: dict, *, batch: int = BATCH) -> int:
    """Seal every clear value of ``model``'s encrypted fields and fill its blind indexes; returns values sealed.

    ``keys`` maps owner id (text) → LiveKey. Rows are read and rewritten in their
    physical order, so the table keeps the order it was generated in.
    """
    from django.db import connection

    from vault.envelope import PREFIX, location, seal
    from vault.fields import BlindIndexField, encrypted_fields

    fields = encrypted_fields(model)
    indexes = [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
    if not fields:
        return 0
    table, pk = model._meta.db_table, model._meta.pk.column
    label = model._meta.label_lower
    join, owner = _owner_sql(model)
    columns = [f.column for f in fields]
    select = ", ".join(f"t.{c}" for c in columns)
    set_clause = ", ".join(f"{c} = v.{c}" for c in columns + [f.column for f in indexes])
    types = ", ".join(["%s::uuid[]"] + ["%s::text[]"] * (len(columns) + len(indexes)))
    names = ", ".join(["pk", *columns, *(f.column for f in indexes)])
    update = f"UPDATE {table} AS t SET {set_clause} FROM unnest({types}) AS v({names}) WHERE t.{pk} = v.pk"
    position = {f.name: n for n, f in enumerate(fields)}
    sealed = 0
    with connection.chunked_cursor() as reader:
        reader.execute(f"SELECT t.{pk}, {owner}, {select} FROM {table} t {join} ORDER BY t.ctid")
        while rows := reader.fetchmany(batch):
            out: list[list] = [[] for _ in range(1 + len(columns) + len(indexes))]
            for pk_value, owner_id, *values in rows:
                key = keys[str(owner_id)]
                out[0].append(pk_value)
                for n, (field, value) in enumerate(zip(fields, values, strict=True)):
                    if value and not value.startswith(PREFIX):
                        value = seal(key, value, location(label, field.name, pk_value))
                        sealed += 1
                    out[1 + n].append(str(value) if value is not None else None)
                for n, index in enumerate(indexes):
                    out[1 + len(columns) + n].append(_plain_index(index, values[position[index.of]]))
            with connection.cursor() as writer:
                writer.execute(update, out)
    return sealed


def _plain_index(index, value) -> str:
    from vault.blind import blind_index
    from vault.envelope import PREFIX

    if value and value.startswith(PREFIX):
        raise ValueError("A blind index is computed from the clear value; this one was already sealed.")
    return blind_index(value, index.kind)


def encrypt_generated(log: Callable[[str], None] = print) -> dict[str, int]:
    """Give every client a data key and encrypt every encrypted model's clear values (in the open transaction)."""
    from django.db import connection

    from vault.fields import encrypted_fields, encrypted_models
    from vault.models import DataKey, KeyState

    models = [m for m in encrypted_models() if encrypted_fields(m)]
    owners_model = next(m for m in models if m.vault_owner == "pk")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {owners_model._meta.pk.column} FROM {owners_model._meta.db_table} c "
            f"WHERE NOT EXISTS (SELECT 1 FROM {DataKey._meta.db_table} k WHERE k.owner = c.id AND k.state = %s)",
            [KeyState.ACTIVE.value],
        )
        owners = [row[0] for row in cursor.fetchall()]
    keys = create_data_keys(owners)
    log(f"  {'data keys':<34} {len(keys):>10,} keys  {time.perf_counter() - started:6.1f} s")
    counts = {}
    for model in models:
        started = time.perf_counter()
        counts[model._meta.label_lower] = encrypt_table(model, _KeysFor(keys))
        log(
            f"  {'encrypt ' + model._meta.model_name:<34} {counts[model._meta.label_lower]:>10,} values"
            f" {time.perf_counter() - started:6.1f} s"
        )
    return counts


class _KeysFor(dict):
    """Owner → key: the keys just made, else the owner's active key from the keyring (made on first need)."""

    def __missing__(self, owner: str):
        from vault.keyring import active_key

        key = active_key(uuid.UUID(owner))
        self[owner] = key
        return key
