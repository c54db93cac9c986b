"""Crypto-shredding: two different people approve, legal hold and retention stop it, and afterwards nothing reads."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from matters.keys import (
    KeyActionRefused,
    approve_shredding,
    cancel_shredding,
    request_shredding,
    set_legal_hold,
)
from matters.models import Client, ClientShredding, Document, ShreddingStatus
from tests.factories import PartyFactory, make_document
from tests.matters.test_key_rotation import _fresh_key_caches, add_kek_version  # noqa: F401 (an autouse fixture)
from vault import keyring
from vault.keys import KeyUnavailable, provider
from vault.models import DataKey, KeyState, wrap_aad

NAME = "Marlin Holdings"
TITLE = "Operation Bluefin"


@pytest.fixture
def ended(matter, alice):
    """Alice's client, whose retention ended yesterday, with a party and a document."""
    client = matter.client
    client.name = NAME
    client.retention_until = timezone.localdate() - timedelta(days=1)
    client.save()
    matter.title = TITLE
    matter.save()
    PartyFactory(matter=matter, name="Tuna Fisheries Cooperative")
    make_document(matter, title="Valuation model", name="valuation.pdf", uploader=alice)
    return client


def _key_states(client) -> set[str]:
    return set(DataKey.objects.filter(owner=client.pk).values_list("state", flat=True))


def _shred(requester, approver, client):
    return approve_shredding(actor=approver, shredding=request_shredding(actor=requester, client=client))


# --- the two-person rule ------------------------------------------------------------------------


def test_the_requester_alone_cannot_shred(ended, dana):
    shredding = request_shredding(actor=dana, client=ended)

    with pytest.raises(KeyActionRefused, match="One approver cannot shred alone"):
        approve_shredding(actor=dana, shredding=shredding)

    shredding.refresh_from_db()
    assert shredding.status == ShreddingStatus.PENDING
    assert _key_states(ended) == {KeyState.ACTIVE}
    keyring.clear_cache()
    assert Client.objects.get(pk=ended.pk).name == NAME
    denial = AuditEvent.objects.get(action=AuditAction.SHRED_APPROVE)
    assert denial.outcome == Outcome.DENIED


def test_the_same_person_asking_twice_is_not_two(ended, dana, adam):
    request_shredding(actor=dana, client=ended)

    with pytest.raises(KeyActionRefused, match="already awaiting approval"):
        request_shredding(actor=dana, client=ended)

    assert ClientShredding.objects.filter(client=ended).count() == 1


def test_two_different_people_destroy_the_keys(ended, dana, adam):
    shredding = _shred(dana, adam, ended)

    assert shredding.status == ShreddingStatus.DONE
    assert shredding.requested_by == dana
    assert shredding.approved_by == adam
    assert shredding.keys_destroyed == 1
    assert shredding.files_deleted == 1
    assert _key_states(ended) == {KeyState.DESTROYED}
    assert Client.objects.get(pk=ended.pk).shredded_at is not None
    events = AuditEvent.objects.filter(client_id=ended.pk, outcome=Outcome.SUCCESS)
    assert {AuditAction.SHRED_REQUEST, AuditAction.SHRED_APPROVE, AuditAction.KEYS_DESTROYED} <= set(
        events.values_list("action", flat=True)
    )
    destroyed = events.get(action=AuditAction.KEYS_DESTROYED)
    assert destroyed.actor_id == adam.pk
    assert NAME not in bytes(destroyed.payload).decode()


@pytest.mark.parametrize("who", ["alice", "bob", "root"])
def test_no_one_but_the_security_officer_or_an_administrator_may_request(ended, who, request):
    with pytest.raises(KeyActionRefused, match="Only the security officer or an administrator"):
        request_shredding(actor=request.getfixturevalue(who), client=ended)

    assert not ClientShredding.objects.exists()
    assert AuditEvent.objects.get(action=AuditAction.SHRED_REQUEST).outcome == Outcome.DENIED


def test_a_lawyer_cannot_approve_either(ended, dana, alice):
    shredding = request_shredding(actor=dana, client=ended)

    with pytest.raises(KeyActionRefused):
        approve_shredding(actor=alice, shredding=shredding)

    assert _key_states(ended) == {KeyState.ACTIVE}


def test_a_cancelled_request_cannot_be_approved(ended, dana, adam):
    shredding = request_shredding(actor=dana, client=ended)
    cancel_shredding(actor=dana, shredding=shredding)

    with pytest.raises(KeyActionRefused, match="no longer awaiting approval"):
        approve_shredding(actor=adam, shredding=shredding)

    assert _key_states(ended) == {KeyState.ACTIVE}
    assert AuditEvent.objects.filter(action=AuditAction.SHRED_CANCEL, outcome=Outcome.SUCCESS).count() == 1


# --- legal hold and retention ----------------------------------------------------------------------


def test_legal_hold_blocks_the_request(ended, dana):
    set_legal_hold(actor=dana, client=ended, reason="Pending litigation")

    with pytest.raises(KeyActionRefused, match="legal hold"):
        request_shredding(actor=dana, client=ended)

    assert not ClientShredding.objects.exists()


def test_a_hold_placed_after_the_request_blocks_the_approval(ended, dana, adam):
    shredding = request_shredding(actor=dana, client=ended)
    set_legal_hold(actor=dana, client=ended, reason="Pending litigation")

    with pytest.raises(KeyActionRefused, match="legal hold"):
        approve_shredding(actor=adam, shredding=shredding)

    assert _key_states(ended) == {KeyState.ACTIVE}


@pytest.mark.parametrize(
    ("retain_until", "message"),
    [
        (lambda today: today, "must be kept until"),  # the last day of retention is still within it
        (lambda today: today + timedelta(days=365), "must be kept until"),
        (lambda today: None, "No retention date"),
    ],
)
def test_retention_that_has_not_ended_blocks_the_request(ended, dana, retain_until, message):
    ended.retention_until = retain_until(timezone.localdate())
    ended.save(update_fields=["retention_until"])

    with pytest.raises(KeyActionRefused, match=message):
        request_shredding(actor=dana, client=ended)


def test_retention_extended_after_the_request_blocks_the_approval(ended, dana, adam):
    shredding = request_shredding(actor=dana, client=ended)
    ended.retention_until = timezone.localdate() + timedelta(days=30)
    ended.save(update_fields=["retention_until"])

    with pytest.raises(KeyActionRefused, match="must be kept until"):
        approve_shredding(actor=adam, shredding=shredding)


def test_a_shredded_client_cannot_be_shredded_again(ended, dana, adam):
    _shred(dana, adam, ended)

    with pytest.raises(KeyActionRefused, match="already destroyed"):
        request_shredding(actor=adam, client=ended)


# --- afterwards ---------------------------------------------------------------------------------


def test_afterwards_pages_read_destroyed_and_the_document_is_gone(
    ended, matter, alice, dana, adam, login, django_capture_on_commit_callbacks
):
    document = Document.objects.get(matter=matter)
    storage, stored_name = document.file.storage, document.file.name
    assert storage.exists(stored_name)

    with django_capture_on_commit_callbacks(execute=True):
        _shred(dana, adam, ended)

    keyring.clear_cache()
    browser = login(alice)
    page = browser.get(reverse("matters:detail", args=[matter.pk])).content.decode()
    assert TITLE not in page
    assert NAME not in page
    assert "Tuna Fisheries" not in page
    assert "destroyed" in page
    document_page = browser.get(reverse("matters:document_detail", args=[document.pk])).content.decode()
    assert "Valuation model" not in document_page
    assert "destroyed" in document_page
    assert browser.get(reverse("matters:document_download", args=[document.pk])).status_code == 410
    assert not storage.exists(stored_name)


def test_afterwards_search_no_longer_finds_the_clients_name(ended, matter, alice, dana, adam, login):
    browser = login(alice)
    assert matter.number in browser.get(reverse("matters:list"), {"q": NAME}).content.decode()

    _shred(dana, adam, ended)

    assert Client.objects.get(pk=ended.pk).name_index == ""
    assert matter.number not in browser.get(reverse("matters:list"), {"q": NAME}).content.decode()


def test_an_old_backup_of_the_key_is_useless_once_its_kek_version_is_gone(ended, dana, adam, settings):
    """A backup from before the shredding still holds the wrapped key; rotating the KEK and
    dropping the old version from the configuration makes that copy unreadable too."""
    key = DataKey.objects.get(owner=ended.pk, state=KeyState.ACTIVE)
    backup = (key.pk, key.owner, key.kek_version, bytes(key.wrapped))
    assert provider().unwrap(backup[2], backup[3], aad=wrap_aad(backup[0], backup[1]))  # readable, for now

    _shred(dana, adam, ended)
    old_keks = settings.VAULT_KEKS
    add_kek_version(settings)
    call_command("rotate_kek", stdout=StringIO())
    settings.VAULT_KEKS = settings.VAULT_KEKS.removeprefix(old_keks + ",")
    provider.cache_clear()

    assert provider().versions() == (2,)
    with pytest.raises(KeyUnavailable):
        provider().unwrap(backup[2], backup[3], aad=wrap_aad(backup[0], backup[1]))


# --- the job and the command --------------------------------------------------------------------


def test_the_destruction_runs_as_a_recorded_job(ended, dana, adam):
    from jobs.models import JobOutcome, JobRun

    _shred(dana, adam, ended)

    run = JobRun.objects.get(job="vault.shred_client")
    assert run.outcome == JobOutcome.SUCCEEDED
    assert run.counts["keys_destroyed"] == 1


def test_the_command_takes_two_named_people_and_refuses_one_twice(ended, dana, adam):
    from django.core.management.base import CommandError

    out = StringIO()
    call_command("shred_client", ended.code, "--request", "--as", "dana", stdout=out)
    assert "awaiting approval" in out.getvalue()

    with pytest.raises(CommandError, match="One approver cannot shred alone"):
        call_command("shred_client", ended.code, "--approve", "--as", "dana", stdout=StringIO())
    assert _key_states(ended) == {KeyState.ACTIVE}

    out = StringIO()
    call_command("shred_client", ended.code, "--approve", "--as", "adam", stdout=out)
    assert "keys destroyed" in out.getvalue()
    assert _key_states(ended) == {KeyState.DESTROYED}
    assert NAME not in out.getvalue()


def test_the_command_names_who_must_act(ended):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--as USERNAME"):
        call_command("shred_client", ended.code, "--request", stdout=StringIO())
