"""The vault's operations on stored data: encrypting plaintext in place, rewrapping data
keys under a new KEK, re-encrypting a client under a new data key, and destroying a
client's keys.

These are the mechanics, over any model with encrypted fields (found through the
app registry, so the vault imports no app of ours). Who may start them, and the
audit events and job records that go with them, belong to the callers
(``matters.keys``). Each works in batches that commit one at a time and is safe
to run again after an interruption.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from vault import envelope, keyring, streams
from vault.fields import (
    BlindIndexField,
    DestroyedValue,
    Sealed,
    encrypted_fields,
    encrypted_file_fields,
    encrypted_models,
    preload_keys,
)
from vault.files import EncryptedContent, file_binding
from vault.keys import provider
from vault.models import DataKey, KeyRotation, KeyState, RetiredKek, RotationState, wrap_aad


class VaultError(Exception):
    """An operation that cannot proceed; the message is safe to show."""


Progress = Callable[[dict], None]


def _owner_path(model) -> str:
    return model.vault_owner


def _rows_of(model, owner):
    return model._base_manager.filter(**{_owner_path(model): owner})


def _index_fields(model) -> list[BlindIndexField]:
    return [field for field in model._meta.concrete_fields if isinstance(field, BlindIndexField)]


# --- Encrypting a plaintext database in place ---------------------------------------------


def _is_plaintext(value) -> bool:
    return isinstance(value, Sealed) and not value.text.startswith(envelope.PREFIX)


def _file_is_plaintext(field_file) -> bool:
    with field_file.storage.open(field_file.name, "rb") as stored:
        return stored.read(len(streams.MAGIC)) != streams.MAGIC


def _columns_present(model) -> set[str] | None:
    """The columns ``model``'s table has now (None when it has no table yet)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if table not in connection.introspection.table_names(cursor):
            return None
        return {column.name for column in connection.introspection.get_table_description(cursor, table)}


def encrypt_plaintext(*, batch_size: int = 500, progress: Progress | None = None) -> dict:
    """Encrypt every value and document still stored in clear (a database from before the vault).

    Values already encrypted are left alone, so a second run, or a run after an
    interruption, only finishes what is left. Each batch commits on its own.

    Run from a migration (matters 0003), the schema may be older than the models:
    tables and columns that later migrations add are not there yet, so only what
    exists is read or written.
    """
    counts = {"values": 0, "files": 0}
    for model in encrypted_models():
        columns = _columns_present(model)
        if columns is None:
            continue
        fields = [field for field in encrypted_fields(model) if field.column in columns]
        file_fields = [field for field in encrypted_file_fields(model) if field.column in columns]
        indexes = [index for index in _index_fields(model) if index.column in columns]
        label = model._meta.label_lower
        last = None
        while True:
            queryset = model._base_manager.order_by("pk")
            if last is not None:
                queryset = queryset.filter(pk__gt=last)
            rows = list(
                queryset.values_list("pk", _owner_path(model), *(f.attname for f in fields + file_fields))[:batch_size]
            )
            if not rows:
                break
            with transaction.atomic():
                for pk, owner, *values in rows:
                    counts["values"] += _encrypt_row(model, label, pk, owner, fields, indexes, values[: len(fields)])
                    counts["files"] += _encrypt_files(model, pk, owner, file_fields, values[len(fields) :])
            last = rows[-1][0]
            if progress:
                progress(counts)
    return counts


def _encrypt_row(model, label, pk, owner, fields, indexes, values) -> int:
    updates, plain = {}, {}
    for field, value in zip(fields, values, strict=True):
        if _is_plaintext(value):
            plain[field.name] = value.text
            updates[field.attname] = envelope.seal(
                keyring.active_key(owner), value.text, envelope.location(label, field.name, pk)
            )
    for index in indexes:
        if index.of in plain:
            updates[index.attname] = index.index_of(plain[index.of])
    if updates:
        # An UPDATE, not save(): the model's history would try to open the old clear value.
        model._base_manager.filter(pk=pk).update(**updates)
    return len(plain)


def _encrypt_files(model, pk, owner, file_fields, names) -> int:
    done = 0
    for field, name in zip(file_fields, names, strict=True):
        if not name:
            continue
        # The file column alone, and the owner as read: other columns may not exist yet.
        instance = model._base_manager.only("pk", field.attname).get(pk=pk)
        field_file = getattr(instance, field.attname)
        if not _file_is_plaintext(field_file):
            continue
        _rewrite_file(instance, field, field_file, field_file.storage.open(name, "rb"), None, owner=owner)
        done += 1
    return done


def _rewrite_file(instance, field, field_file, plaintext, size, *, owner=None) -> None:
    """Store ``plaintext`` encrypted under the owner's active key, under a new name, then drop the old file.

    A new name rather than overwriting: until this transaction commits, the row
    still names the old file, which is still whole.
    """
    old_name = field_file.name
    key = keyring.active_key(owner if owner is not None else _owner_of_instance(instance))
    base = old_name.split(".k", 1)[0]
    content = EncryptedContent(plaintext, key, file_binding(instance, field.name), size)
    try:
        new_name = field_file.storage.save(f"{base}.k{key.id:x}", content, max_length=field.max_length)
    finally:
        content.close()
        plaintext.close()
    type(instance)._base_manager.filter(pk=instance.pk).update(**{field.attname: new_name})
    storage = field_file.storage
    transaction.on_commit(lambda: storage.delete(old_name))


def _owner_of_instance(instance):
    from vault.fields import owner_of

    return owner_of(instance)


# --- Recomputing blind indexes ----------------------------------------------------------------


def reindex_blind(
    *, batch_size: int = 500, progress: Progress | None = None, renamed: dict[str, str] | None = None
) -> dict[str, int]:
    """Recompute every blind index from the value it indexes: ``{"rows": changed, "unreadable": n}``.

    For when the normalization (vault.blind) changes: until then, a search or conflict check
    normalizes its terms the new way and misses the rows indexed the old way. A destroyed
    value keeps no index; rows already right are not written, nor a row whose index changed
    meanwhile (a client shredded during the run keeps no index). A value that cannot be opened
    (tampered) is counted and left as it is. Each batch commits on its own, so an interrupted
    run can simply be run again. ``renamed`` receives ``{old index: new index}``.
    """
    counts = {"rows": 0, "unreadable": 0}
    for model in encrypted_models():
        columns = _columns_present(model)
        if columns is None:
            continue
        indexes = [
            index
            for index in _index_fields(model)
            if index.column in columns and model._meta.get_field(index.of).column in columns
        ]
        if not indexes:
            continue
        read = ["pk", _owner_path(model), *{index.of for index in indexes}, *(index.attname for index in indexes)]
        last = None
        while True:
            queryset = model._base_manager.order_by("pk").only(*read)
            if last is not None:
                queryset = queryset.filter(pk__gt=last)
            rows = list(queryset[:batch_size])
            if not rows:
                break
            preload_keys(rows)
            with transaction.atomic():
                for row in rows:
                    outcome = _reindex_row(model, row, indexes, renamed)
                    if outcome:
                        counts[outcome] += 1
            last = rows[-1].pk
            if progress:
                progress(counts)
    return counts


def _reindex_row(model, row, indexes: list[BlindIndexField], renamed: dict | None) -> str | None:
    updates, was = {}, {}
    try:
        for index in indexes:
            source = getattr(row, index.of)
            value = "" if isinstance(source, DestroyedValue) else index.index_of(source)
            if value != getattr(row, index.attname):
                updates[index.attname], was[index.attname] = value, getattr(row, index.attname)
    except envelope.TamperedValue:
        return "unreadable"
    if not updates:
        return None
    # An UPDATE, not save(): nothing else about the row changes. Only if the indexes are still
    # those read: a shred meanwhile has emptied them, and must stay done.
    if not model._base_manager.filter(pk=row.pk, **was).update(**updates):
        return None
    if renamed is not None:
        renamed.update({old: updates[name] for name, old in was.items() if old})
    return "rows"


# --- Rewrapping data keys under a new KEK ---------------------------------------------------


def kek_status() -> dict:
    """Where the KEK rotation stands: data keys per KEK version, and what is left to rewrap."""
    current = provider().current_version()
    per_version = dict(
        DataKey.objects.filter(wrapped__isnull=False)
        .values_list("kek_version")
        .annotate(n=Count("id"))
        .values_list("kek_version", "n")
    )
    total = sum(per_version.values())
    remaining = total - per_version.get(current, 0)
    return {
        "current": current,
        "configured": list(provider().versions()),
        "retired": sorted(RetiredKek.objects.values_list("version", flat=True)),
        "per_version": per_version,
        "total": total,
        "remaining": remaining,
    }


def _store_rewrapped(batch: list[tuple[int, bytes]], version: int) -> None:
    table = DataKey._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY in binary into a temporary table, then one UPDATE: quoting thousands of
            # bytea values into an array literal cost more than the cryptography.
            cursor.execute("CREATE TEMPORARY TABLE vault_rewrap (id bigint, wrapped bytea) ON COMMIT DROP")
            with cursor.cursor.copy("COPY vault_rewrap (id, wrapped) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int8", "bytea"])
                for row in batch:
                    copy.write_row(row)
            cursor.execute(
                f"UPDATE {table} AS k SET wrapped = v.wrapped, kek_version = %s "  # noqa: S608 (our table name)
                "FROM vault_rewrap AS v WHERE k.id = v.id",
                [version],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET wrapped = %s, kek_version = %s WHERE id = %s",  # noqa: S608
                [(wrapped, version, key_id) for key_id, wrapped in batch],
            )


def _keys_to_rewrap(current: int, after: int | None, limit: int) -> list[tuple]:
    # Plain SQL: building a model row (or even a values_list tuple) per key cost more than its crypto.
    table = DataKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, owner, kek_version, wrapped FROM {table} "  # noqa: S608 (our table name)
            "WHERE wrapped IS NOT NULL AND kek_version <> %s AND id > %s ORDER BY id LIMIT %s",
            [current, -(2**63) if after is None else after, limit],
        )
        return cursor.fetchall()


def rewrap_data_keys(*, batch_size: int = 5000, progress: Progress | None = None) -> dict:
    """Rewrap every data key not under the current KEK version; retire versions left unused.

    Nothing is re-encrypted and every key stays readable throughout (a key is
    readable under its old version until its new wrap commits). Batches commit
    one at a time, so an interrupted rewrap resumes by running again.
    """
    kek = provider()
    current = kek.current_version()
    rewrapped = 0
    last = None
    while True:
        # Onwards from the last key done: otherwise each batch walks again past every key rewrapped.
        # Keys made meanwhile are wrapped under the current version already, so none is missed.
        rows = _keys_to_rewrap(current, last, batch_size)
        if not rows:
            break
        batch = []
        for key_id, owner, version, wrapped in rows:
            aad = wrap_aad(key_id, owner)
            batch.append((key_id, kek.wrap(kek.unwrap(version, bytes(wrapped), aad=aad), aad=aad)[1]))
        with transaction.atomic():
            _store_rewrapped(batch, current)
        rewrapped += len(batch)
        last = rows[-1][0]
        if progress:
            progress({"rewrapped": rewrapped, **kek_status()})
    retired = []
    in_use = set(DataKey.objects.filter(wrapped__isnull=False).values_list("kek_version", flat=True).distinct())
    for version in kek.versions():
        if version != current and version not in in_use and RetiredKek.objects.get_or_create(version=version)[1]:
            retired.append(version)
    return {"rewrapped": rewrapped, "retired_versions": retired, "current_version": current}


# --- Rotating one client's data key ---------------------------------------------------------


def _count_owner_rows(owner) -> tuple[int, int]:
    rows = files = 0
    for model in encrypted_models():
        count = _rows_of(model, owner).count()
        rows += count if encrypted_fields(model) else 0
        files += count if encrypted_file_fields(model) else 0
    return rows, files


def start_key_rotation(owner, *, actor=None) -> KeyRotation:
    """Make a new data key for ``owner``; the old one decrypts only until its data has moved."""
    with transaction.atomic():
        old = DataKey.objects.select_for_update().filter(owner=owner, state=KeyState.ACTIVE).first()
        if old is None:
            raise VaultError("This client has no data key yet: there is nothing to rotate.")
        if KeyRotation.objects.filter(owner=owner, state__in=[RotationState.RUNNING, RotationState.FINISHING]).exists():
            raise VaultError("A key rotation is already under way for this client.")
        old.state = KeyState.RETIRING
        old.save(update_fields=["state"])
        new = keyring.new_data_key(owner)
        rows, files = _count_owner_rows(owner)
        rotation = KeyRotation.objects.create(
            owner=owner, old_key=old, new_key=new, started_by=actor, rows_total=rows, files_total=files
        )
    keyring.forget_owner(owner)
    return rotation


def _reseal_batch(rotation: KeyRotation, model, rows, fields, file_fields) -> tuple[int, int]:
    """Re-encrypt what in ``rows`` is not under the new key; returns (rows changed, files changed)."""
    label = model._meta.label_lower
    new_key = keyring.key_by_id(rotation.new_key_id)
    changed_files = 0
    updates: dict[tuple[str, ...], list[list]] = {}  # columns changed → [[values…, pk], …]
    for pk, *values in rows:
        columns, sealed = [], []
        for field, value in zip(fields, values[: len(fields)], strict=True):
            if isinstance(value, Sealed) and envelope.key_id_of(value.text) != new_key.id:
                where = envelope.location(label, field.name, pk)
                columns.append(field.column)
                sealed.append(str(envelope.seal(new_key, envelope.open_envelope(value.text, where), where)))
        if columns:
            updates.setdefault(tuple(columns), []).append([*sealed, _stored_pk(model, pk)])
        for field, name in zip(file_fields, values[len(fields) :], strict=True):
            if name:
                changed_files += _reencrypt_file(model, pk, field, new_key)
    _write_columns(model, updates)
    return sum(len(group) for group in updates.values()), changed_files


def _stored_pk(model, pk):
    """``pk`` as the database stores it (a UUID is 32 hex characters on SQLite)."""
    return model._meta.pk.get_db_prep_value(pk, connection)


def _write_columns(model, updates: dict[tuple[str, ...], list[list]]) -> None:
    # One prepared UPDATE per set of columns, sent as a batch (psycopg pipelines it): Django's
    # bulk_update builds a CASE over every row for every column, quadratic in the batch.
    quote = connection.ops.quote_name
    table, pk_column = quote(model._meta.db_table), quote(model._meta.pk.column)
    with connection.cursor() as cursor:
        for columns, parameters in updates.items():
            assignments = ", ".join(f"{quote(column)} = %s" for column in columns)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s",  # noqa: S608 (our own names)
                parameters,
            )


def _reencrypt_file(model, pk, field, new_key) -> int:
    instance = model._base_manager.get(pk=pk)
    field_file = getattr(instance, field.attname)
    if field_file.key_id() == new_key.id:
        return 0
    size = getattr(instance, "size", None)
    _rewrite_file(instance, field, field_file, field_file.open_plaintext(fresh_key=False), size)
    return 1


def continue_key_rotation(
    rotation_id: int, *, batch_size: int | None = None, max_batches: int | None = None
) -> KeyRotation:
    """Carry a rotation forward: re-encrypt batch by batch, then check, then retire the old key.

    Stops after ``max_batches`` batches when given (the rest is done by the next call,
    from the recorded position). The old key is retired only after a final pass,
    begun once every process's key cache has expired, finds nothing left under it.
    """
    batch_size = batch_size or settings.VAULT_ROTATION_BATCH
    with _exclusively(rotation_id) as mine:
        rotation = KeyRotation.objects.get(pk=rotation_id)
        if not mine:
            return rotation  # another worker is carrying it forward right now
        return _continue(rotation, batch_size, max_batches)


@contextlib.contextmanager
def _exclusively(rotation_id: int):
    """One worker per rotation (the queued task and the periodic resume may both start one).

    A PostgreSQL session advisory lock, held across the batches' own transactions;
    SQLite serialises writers anyway.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_ROTATION_LOCK, rotation_id])
        mine = cursor.fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_ROTATION_LOCK, rotation_id])


_ROTATION_LOCK = 0x7661  # "va": the advisory-lock namespace of vault rotations


def _continue(rotation: KeyRotation, batch_size: int, max_batches: int | None) -> KeyRotation:
    if rotation.state not in (RotationState.RUNNING, RotationState.FINISHING):
        return rotation
    if DataKey.objects.filter(pk=rotation.new_key_id, state=KeyState.DESTROYED).exists():
        KeyRotation.objects.filter(pk=rotation.pk).update(state=RotationState.ABANDONED, finished_at=timezone.now())
        rotation.refresh_from_db()
        return rotation
    if rotation.state == RotationState.FINISHING:
        settle = timedelta(seconds=settings.VAULT_KEY_CACHE_SECONDS)
        if rotation.finishing_since and timezone.now() < rotation.finishing_since + settle:
            return rotation
    batches = 0
    changed_in_pass = 0
    for model in encrypted_models():
        label = model._meta.label_lower
        if rotation.cursor.get(label) == "done":
            continue
        fields, file_fields = encrypted_fields(model), encrypted_file_fields(model)
        while True:
            if max_batches is not None and batches >= max_batches:
                return rotation
            queryset = _rows_of(model, rotation.owner).order_by("pk")
            if rotation.cursor.get(label):
                queryset = queryset.filter(pk__gt=rotation.cursor[label])
            rows = list(queryset.values_list("pk", *(f.attname for f in fields + file_fields))[:batch_size])
            if not rows:
                rotation.cursor[label] = "done"
                KeyRotation.objects.filter(pk=rotation.pk).update(cursor=rotation.cursor)
                break
            with transaction.atomic():
                changed_rows, changed_files = _reseal_batch(rotation, model, rows, fields, file_fields)
                rotation.cursor[label] = str(rows[-1][0])
                if rotation.state == RotationState.RUNNING:
                    rotation.rows_done = min(rotation.rows_total, rotation.rows_done + (len(rows) if fields else 0))
                    rotation.files_done = min(
                        rotation.files_total, rotation.files_done + (len(rows) if file_fields else 0)
                    )
                rotation.save(update_fields=["cursor", "rows_done", "files_done"])
            changed_in_pass += changed_rows + changed_files
            batches += 1
    return _after_pass(rotation, changed_in_pass)


def _after_pass(rotation: KeyRotation, changed: int) -> KeyRotation:
    now = timezone.now()
    if rotation.state == RotationState.RUNNING or changed:
        # Another pass, once caches elsewhere can no longer hold the old key as active.
        rotation.state, rotation.finishing_since, rotation.cursor = RotationState.FINISHING, now, {}
        rotation.rows_done, rotation.files_done = rotation.rows_total, rotation.files_total
        rotation.save(update_fields=["state", "finishing_since", "cursor", "rows_done", "files_done"])
        return rotation
    with transaction.atomic():
        DataKey.objects.filter(pk=rotation.old_key_id, state=KeyState.RETIRING).update(
            state=KeyState.RETIRED, wrapped=None, kek_version=None, retired_at=now
        )
        rotation.state, rotation.finished_at = RotationState.DONE, now
        rotation.save(update_fields=["state", "finished_at"])
    keyring.forget_owner(rotation.owner)
    return rotation


def unfinished_rotations():
    return KeyRotation.objects.filter(state__in=[RotationState.RUNNING, RotationState.FINISHING])


# --- Crypto-shredding ---------------------------------------------------------------------------


def destroy_owner_data(owner) -> dict:
    """Destroy every key of ``owner``, blank its blind indexes and delete its stored files.

    After this nothing of the owner's encrypted data can be read here, and the
    indexes no longer confirm a guessed name. Files are deleted after commit
    (they are unreadable already; deleting them frees the space).
    """
    files = []
    for model in encrypted_models():
        rows = _rows_of(model, owner)
        indexes = _index_fields(model)
        if indexes:
            rows.update(**{index.attname: "" for index in indexes})
        for field in encrypted_file_fields(model):
            storage = field.storage
            files += [
                (storage, name) for name in rows.exclude(**{field.attname: ""}).values_list(field.attname, flat=True)
            ]
    unfinished_rotations().filter(owner=owner).update(state=RotationState.ABANDONED, finished_at=timezone.now())
    destroyed = keyring.destroy_keys(owner)

    def delete_files():
        for storage, name in files:
            storage.delete(name)

    transaction.on_commit(delete_files)
    return {"keys_destroyed": destroyed, "files_deleted": len(files)}
