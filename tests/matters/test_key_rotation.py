"""Key rotation: a client's data key (re-encrypting its rows and documents) and the master key (KEK rewrap)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from audit.actions import AuditAction
from audit.models import AuditEvent
from jobs.models import JobOutcome, JobRun
from matters.keys import (
    KeyActionRefused,
    continue_client_key_rotation,
    resume_rotations,
    start_client_key_rotation,
)
from matters.models import Client, Document, Matter, Party
from tests.factories import MatterFactory, PartyFactory, make_document
from vault import keyring
from vault.envelope import key_id_of
from vault.fields import encrypted_fields, encrypted_models
from vault.keys import KeyUnavailable, new_kek_text, provider
from vault.models import DataKey, KeyRotation, KeyState, RetiredKek, RotationState
from vault.streams import read_header

CONTENT = b"%PDF-1.4 statement of the Marlin Holdings board\n" * 50


@pytest.fixture(autouse=True)
def _fresh_key_caches():
    """KEKs and unwrapped keys are cached per process: a test that changes them leaves nothing behind."""
    provider.cache_clear()
    keyring.clear_cache()
    yield
    provider.cache_clear()
    keyring.clear_cache()


@pytest.fixture
def client_data(matter, alice):
    """A client with everything that is encrypted: its own fields, two matters, parties and documents."""
    client = matter.client
    client.name, client.id_number, client.address = "Marlin Holdings", "91310000MA1K00000X", "1 Harbour Road"
    client.save()
    matter.title, matter.description = "Operation Bluefin", "Undisclosed tender offer"
    matter.save()
    second = MatterFactory(client=client, title="Second engagement")
    PartyFactory(matter=matter, name="Tuna Fisheries Cooperative", id_number="110101199003070000")
    PartyFactory(matter=second, name="Swordfish Advisory")
    make_document(matter, title="Valuation model", name="valuation.pdf", content=CONTENT, uploader=alice)
    make_document(second, title="Board minutes", name="minutes.pdf", content=CONTENT[:100])
    return client


def plaintexts(client) -> dict:
    """Every encrypted value and document of ``client``, read through the models after a cold start."""
    keyring.clear_cache()
    values = {}
    for model in encrypted_models():
        for row in model._base_manager.filter(**{model.vault_owner: client.pk}):
            for field in encrypted_fields(model):
                values[(model._meta.label, str(row.pk), field.name)] = str(getattr(row, field.name))
    for document in Document.objects.filter(matter__client=client):
        with document.file.open_plaintext() as stored:
            values[("file", str(document.pk))] = stored.read()
    return values


def envelope_key_ids(client) -> set[int]:
    """The data key ids in the envelopes of ``client``'s rows, read with raw SQL."""
    quote, found = connection.ops.quote_name, set()
    with connection.cursor() as cursor:
        for model in encrypted_models():
            fields = encrypted_fields(model)
            pks = list(model._base_manager.filter(**{model.vault_owner: client.pk}).values_list("pk", flat=True))
            if not fields or not pks:
                continue
            pk_field = model._meta.pk
            cursor.execute(
                f"SELECT {', '.join(quote(f.column) for f in fields)} FROM {quote(model._meta.db_table)} "  # noqa: S608
                f"WHERE {quote(pk_field.column)} IN ({', '.join(['%s'] * len(pks))})",
                [pk_field.get_db_prep_value(pk, connection) for pk in pks],
            )
            found |= {key_id_of(value) for row in cursor.fetchall() for value in row if value}
    return found


def file_key_ids(client) -> set[int]:
    found = set()
    for document in Document.objects.filter(matter__client=client):
        with document.file.storage.open(document.file.name, "rb") as stored:
            found.add(read_header(stored)[1])
    return found


def settle():
    """Past the key cache lifetime, when the rotation's final check may run."""
    return time_machine.travel(timezone.now() + timedelta(seconds=django_settings.VAULT_KEY_CACHE_SECONDS + 1))


# --- a client's data key -----------------------------------------------------------------------


def test_rotation_re_encrypts_every_row_and_document_under_the_new_key(client_data, dana):
    before = plaintexts(client_data)
    old_key = DataKey.objects.get(owner=client_data.pk, state=KeyState.ACTIVE)
    assert envelope_key_ids(client_data) == file_key_ids(client_data) == {old_key.pk}

    rotation = start_client_key_rotation(actor=dana, client=client_data, enqueue=False)
    continue_client_key_rotation(rotation.pk)

    assert envelope_key_ids(client_data) == {rotation.new_key_id}
    assert file_key_ids(client_data) == {rotation.new_key_id}
    assert plaintexts(client_data) == before


def test_a_rotation_stopped_halfway_resumes_and_retires_the_old_key_only_after_the_final_pass(client_data, dana):
    before = plaintexts(client_data)
    rotation = start_client_key_rotation(actor=dana, client=client_data, enqueue=False)

    # Stopped after one row: some data under each key, all of it readable.
    continue_client_key_rotation(rotation.pk, batch_size=1, max_batches=1)
    rotation.refresh_from_db()
    assert rotation.state == RotationState.RUNNING
    assert 0 < rotation.percent < 100
    assert envelope_key_ids(client_data) == {rotation.old_key_id, rotation.new_key_id}
    assert plaintexts(client_data) == before

    # Resumed: everything moves; the old key still decrypts until the final check.
    continue_client_key_rotation(rotation.pk, batch_size=1)
    rotation.refresh_from_db()
    assert rotation.state == RotationState.FINISHING
    assert rotation.percent == 100
    assert envelope_key_ids(client_data) == file_key_ids(client_data) == {rotation.new_key_id}
    assert DataKey.objects.get(pk=rotation.old_key_id).state == KeyState.RETIRING
    continue_client_key_rotation(rotation.pk)  # too early: every process's cache has not expired yet
    assert DataKey.objects.get(pk=rotation.old_key_id).state == KeyState.RETIRING
    assert not AuditEvent.objects.filter(action=AuditAction.CLIENT_KEY_ROTATED).exists()

    with settle():
        counts = resume_rotations()

    assert counts["rotations_finished"] == 1
    rotation.refresh_from_db()
    assert rotation.state == RotationState.DONE
    old = DataKey.objects.get(pk=rotation.old_key_id)
    assert old.state == KeyState.RETIRED
    assert old.wrapped is None
    assert plaintexts(client_data) == before
    assert AuditEvent.objects.filter(action=AuditAction.CLIENT_KEY_ROTATED, client_id=client_data.pk).count() == 1


def test_new_data_written_during_a_rotation_uses_the_new_key(client_data, dana, alice):
    rotation = start_client_key_rotation(actor=dana, client=client_data, enqueue=False)

    added = MatterFactory(client=client_data, title="Opened during the rotation")

    with connection.cursor() as cursor:
        cursor.execute("SELECT title FROM matters_matter WHERE number = %s", [added.number])
        assert key_id_of(cursor.fetchone()[0]) == rotation.new_key_id


def test_the_rotation_job_is_started_after_commit_and_recorded(client_data, dana, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rotation = start_client_key_rotation(actor=dana, client=client_data)

    run = JobRun.objects.get(job="vault.rotate_client_key")
    assert run.outcome == JobOutcome.SUCCEEDED
    assert run.counts["rotation"] == rotation.pk
    assert run.counts["percent"] == 100
    event = AuditEvent.objects.get(action=AuditAction.CLIENT_KEY_ROTATE)
    assert event.actor_id == dana.pk
    assert event.client_id == client_data.pk


def test_only_the_security_officer_rotates_a_clients_key(client_data, adam, alice):
    for person in (adam, alice):
        with pytest.raises(KeyActionRefused, match="Only the security officer"):
            start_client_key_rotation(actor=person, client=client_data, enqueue=False)
    assert not KeyRotation.objects.exists()


def test_a_second_rotation_waits_for_the_first(client_data, dana):
    start_client_key_rotation(actor=dana, client=client_data, enqueue=False)

    with pytest.raises(KeyActionRefused, match="already under way"):
        start_client_key_rotation(actor=dana, client=client_data, enqueue=False)


def test_a_client_with_nothing_encrypted_has_no_key_to_rotate(dana):
    bare = Client.objects.create(code="C-EMPTY")  # no name yet: no value was ever sealed

    with pytest.raises(KeyActionRefused, match="no key to rotate"):
        start_client_key_rotation(actor=dana, client=bare, enqueue=False)


def test_the_command_rotates_to_the_end(client_data, dana, settings, monkeypatch):
    before = plaintexts(client_data)
    # The command waits for the key caches; here the wait is a jump of the clock.
    traveller = time_machine.travel(timezone.now(), tick=False)
    clock = traveller.start()
    monkeypatch.setattr(
        "matters.management.commands.rotate_client_key.time.sleep", lambda s: clock.shift(timedelta(seconds=s + 1))
    )
    out = StringIO()
    try:
        call_command("rotate_client_key", client_data.code, "--actor", "dana", "--batch-size", "2", stdout=out)
    finally:
        traveller.stop()

    rotation = KeyRotation.objects.get(owner=client_data.pk)
    assert rotation.state == RotationState.DONE
    assert rotation.started_by == dana
    assert "the old key is retired" in out.getvalue()
    assert envelope_key_ids(client_data) == {rotation.new_key_id}
    assert plaintexts(client_data) == before


def test_the_command_stops_after_the_batches_asked_for_and_vault_status_shows_it(client_data):
    out = StringIO()
    call_command("rotate_client_key", client_data.code, "--batches", "1", "--batch-size", "1", stdout=out)

    rotation = KeyRotation.objects.get(owner=client_data.pk)
    assert rotation.state == RotationState.RUNNING
    assert rotation.started_by is None  # the command line
    status = StringIO()
    call_command("vault_status", stdout=status)
    assert f"{client_data.code}: running" in status.getvalue()
    assert "Marlin" not in status.getvalue()


def test_the_command_refuses_an_unknown_code(db):
    with pytest.raises(CommandError, match="No client"):
        call_command("rotate_client_key", "C-NOPE")


# --- the master key (KEK) ---------------------------------------------------------------------


def add_kek_version(settings, version: int = 2) -> None:
    settings.VAULT_KEKS = f"{settings.VAULT_KEKS},{new_kek_text(version)}"
    provider.cache_clear()


def test_kek_rotation_rewraps_every_data_key_and_all_data_still_reads(client_data, matter, settings):
    other = MatterFactory(title="Another client's matter")
    before = plaintexts(client_data)
    assert set(DataKey.objects.values_list("kek_version", flat=True)) == {1}
    add_kek_version(settings)
    out = StringIO()

    call_command("rotate_kek", stdout=out)

    live = DataKey.objects.filter(wrapped__isnull=False)
    assert live.count() >= 2
    assert set(live.values_list("kek_version", flat=True)) == {2}
    assert RetiredKek.objects.filter(version=1).exists()
    assert plaintexts(client_data) == before
    keyring.clear_cache()
    assert Matter.objects.get(pk=other.pk).title == "Another client's matter"
    text = out.getvalue()
    assert f"{live.count()} of {live.count()} data keys rewrapped" in text
    assert "retired" in text
    run = JobRun.objects.get(job="vault.rewrap_data_keys")
    assert run.counts["rewrapped"] == live.count()
    assert AuditEvent.objects.get(action=AuditAction.KEK_REWRAP).outcome == "success"


def test_a_retired_kek_version_no_longer_unwraps_even_while_still_configured(client_data, settings):
    key = DataKey.objects.get(owner=client_data.pk, state=KeyState.ACTIVE)
    wrapped_under_1 = bytes(key.wrapped)
    add_kek_version(settings)

    call_command("rotate_kek", stdout=StringIO())
    keyring.clear_cache()

    # A copy of the row as it was (a backup), put back: version 1 is retired here.
    DataKey.objects.filter(pk=key.pk).update(kek_version=1, wrapped=wrapped_under_1)
    with pytest.raises(KeyUnavailable, match="retired"):
        Party.objects.filter(matter__client=client_data).first().name  # noqa: B018


def test_rotate_kek_explains_what_to_do_with_a_single_version(client_data, settings):
    with pytest.raises(CommandError, match="add a new version to VAULT_KEKS first"):
        call_command("rotate_kek", stdout=StringIO())


def test_rotate_kek_status_only_reports(client_data, settings):
    add_kek_version(settings)
    out = StringIO()

    call_command("rotate_kek", "--status", stdout=out)

    assert "current KEK version: 2" in out.getvalue()
    assert set(DataKey.objects.values_list("kek_version", flat=True)) == {1}


def test_the_periodic_job_finishes_an_interrupted_rewrap(client_data, settings):
    add_kek_version(settings)

    counts = resume_rotations()

    assert counts["rewrapped"] >= 1
    assert set(DataKey.objects.filter(wrapped__isnull=False).values_list("kek_version", flat=True)) == {2}
    assert resume_rotations() == {"rewrapped": 0, "rotations_continued": 0, "rotations_finished": 0}
