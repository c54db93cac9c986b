"""Key configuration: malformed keys are named without being shown, production refuses to run
without them, and the per-process key cache is bounded in size and in time."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import GrantLevel
from audit.actions import AuditAction, Outcome
from audit.models import AuditEvent
from matters.models import Client
from tests.factories import ClientFactory, MatterFactory, grant, make_document
from vault import keyring
from vault.fields import DestroyedValue
from vault.keys import EnvironmentKeyProvider, new_blind_index_key_text, new_kek_text, parse_keks
from vault.models import DataKey, KeyState

ROOT = Path(__file__).resolve().parents[2]
KEY_ONE, KEY_TWO = new_kek_text(1).partition(":")[2], new_kek_text(2).partition(":")[2]
SHORT_KEY = base64.b64encode(b"sixteen byte key").decode()


# --- parsing VAULT_KEKS ------------------------------------------------------------------------------


def test_versioned_keys_parse_and_the_highest_version_wraps_new_keys():
    keks = parse_keks(f" 1:{KEY_ONE} , 2:{KEY_TWO},")

    assert sorted(keks) == [1, 2]
    assert keks[1] == base64.b64decode(KEY_ONE)
    assert EnvironmentKeyProvider(keks).current_version() == 2


@pytest.mark.parametrize(
    ("text", "named"),
    [
        pytest.param(f"1:{KEY_ONE},{KEY_TWO}", "VAULT_KEKS entry 2 must look like", id="no-version"),
        pytest.param(f"0:{KEY_ONE}", "VAULT_KEKS entry 1 must look like", id="version-zero"),
        pytest.param(f"v2:{KEY_TWO}", "VAULT_KEKS entry 1 must look like", id="version-not-a-number"),
        pytest.param(f"-1:{KEY_ONE}", "VAULT_KEKS entry 1 must look like", id="negative-version"),
        pytest.param(f"1:{KEY_ONE},1:{KEY_TWO}", "VAULT_KEKS lists version 1 twice", id="version-twice"),
        pytest.param(
            f"1:{KEY_ONE},2:{KEY_TWO[:-6]}!!!!!!", "VAULT_KEKS version 2 is not valid base64", id="not-base64"
        ),
        pytest.param(f"3:{SHORT_KEY}", "VAULT_KEKS version 3 must be 32 bytes", id="too-short"),
        pytest.param(f"1:{KEY_ONE}{KEY_TWO}", "VAULT_KEKS version 1", id="two-keys-run-together"),
        pytest.param("", "VAULT_KEKS holds no key", id="empty"),
        pytest.param(" , ,", "VAULT_KEKS holds no key", id="only-commas"),
    ],
)
def test_a_malformed_entry_is_named_and_its_key_is_not_shown(text, named):
    with pytest.raises(ImproperlyConfigured) as refused:
        parse_keks(text)

    message = str(refused.value)
    assert named in message
    for key in (KEY_ONE, KEY_TWO, SHORT_KEY, KEY_TWO[:-6], KEY_ONE[:12], KEY_TWO[:12]):
        assert key not in message


# --- the system checks, as production runs them ----------------------------------------------------

VAULT_VARIABLES = ("VAULT_KEKS", "VAULT_BLIND_INDEX_KEY", "VAULT_KEKS_FILE", "VAULT_BLIND_INDEX_KEY_FILE")


def _production(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py`` in the production profile, with only the vault keys given here."""
    dropped = {"CUSTOS_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "REDIS_URL", *VAULT_VARIABLES}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    base.update({"CUSTOS_ENV": "production", "DATABASE_URL": "sqlite:///:memory:", **env})
    return subprocess.run(  # noqa: S603 — this interpreter, our own arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_deployment_check_names_each_missing_key():
    result = _production("check", "--deploy")

    assert result.returncode != 0
    assert "vault.E001" in result.stderr
    assert "VAULT_KEKS is not set" in result.stderr
    assert "VAULT_BLIND_INDEX_KEY is not set" in result.stderr


def test_missing_keys_do_not_stop_commands_that_need_none():
    result = _production("makemigrations", "--check", "--dry-run")

    assert result.returncode == 0, result.stderr
    assert "vault.E001" not in result.stderr


def test_well_formed_keys_satisfy_the_vault_checks():
    result = _production(
        "check", "--deploy", VAULT_KEKS=f"1:{KEY_ONE},2:{KEY_TWO}", VAULT_BLIND_INDEX_KEY=new_blind_index_key_text()
    )

    assert "vault.E00" not in result.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        pytest.param({"VAULT_KEKS": f"1:{SHORT_KEY}"}, "VAULT_KEKS version 1 must be 32 bytes", id="short-kek"),
        pytest.param({"VAULT_KEKS": KEY_ONE}, "VAULT_KEKS entry 1 must look like", id="kek-without-version"),
        pytest.param(
            {"VAULT_BLIND_INDEX_KEY": SHORT_KEY}, "VAULT_BLIND_INDEX_KEY must be 32 bytes", id="short-index-key"
        ),
    ],
)
def test_a_malformed_key_fails_every_command_and_is_not_shown(env, named):
    keys = {"VAULT_KEKS": f"1:{KEY_ONE}", "VAULT_BLIND_INDEX_KEY": new_blind_index_key_text(), **env}

    result = _production("check", **keys)

    assert result.returncode != 0
    assert "vault.E002" in result.stderr
    assert named in result.stderr
    for value in env.values():
        assert value not in result.stderr + result.stdout


def test_keys_can_come_from_files(tmp_path):
    kek_file, index_file = tmp_path / "keks", tmp_path / "index"
    kek_file.write_text(f"1:{KEY_ONE}\n", encoding="utf-8")
    index_file.write_text(new_blind_index_key_text(), encoding="utf-8")

    result = _production("check", "--deploy", VAULT_KEKS_FILE=str(kek_file), VAULT_BLIND_INDEX_KEY_FILE=str(index_file))

    assert "vault.E00" not in result.stderr


# --- the key cache -------------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch, settings):
    """The keyring's clock, moved by hand."""
    now = SimpleNamespace(value=10_000.0)
    monkeypatch.setattr(keyring, "time", SimpleNamespace(monotonic=lambda: now.value))
    keyring.clear_cache()
    yield now
    keyring.clear_cache()


def _key_queries(captured) -> int:
    return sum(DataKey._meta.db_table in query["sql"] for query in captured)


def _read_name(client_pk) -> str:
    return Client.objects.get(pk=client_pk).name


def test_the_cache_holds_at_most_the_configured_number_of_keys(db, clock, settings):
    settings.VAULT_KEY_CACHE_SIZE = 2
    clients = [ClientFactory(name=f"Cached Client {n}") for n in range(3)]
    keyring.clear_cache()
    for client in clients:
        _read_name(client.pk)  # each key unwrapped once, in this order

    with CaptureQueriesContext(connection) as recent:
        assert _read_name(clients[2].pk) == "Cached Client 2"
        assert _read_name(clients[1].pk) == "Cached Client 1"
    with CaptureQueriesContext(connection) as evicted:
        assert _read_name(clients[0].pk) == "Cached Client 0"

    assert _key_queries(recent) == 0
    assert _key_queries(evicted) == 1


def _destroy_elsewhere(client) -> None:
    """Another process crypto-shreds the client: the rows change, this process's cache does not."""
    DataKey.objects.filter(owner=client.pk).update(state=KeyState.DESTROYED, wrapped=None, kek_version=None)


def test_a_key_destroyed_by_another_process_stops_decrypting_once_the_cache_expires(db, clock, settings):
    settings.VAULT_KEY_CACHE_SECONDS = 60
    client = ClientFactory(name="Shredded Elsewhere Ltd.")
    assert _read_name(client.pk) == "Shredded Elsewhere Ltd."

    _destroy_elsewhere(client)
    clock.value += 59
    within = _read_name(client.pk)
    clock.value += 2
    after = _read_name(client.pk)

    assert within == "Shredded Elsewhere Ltd."  # the documented bound: at most VAULT_KEY_CACHE_SECONDS
    assert isinstance(after, DestroyedValue)
    assert after == "destroyed"


def test_a_cached_key_is_read_again_after_the_cache_time(db, clock, settings):
    settings.VAULT_KEY_CACHE_SECONDS = 60
    client = ClientFactory(name="Refreshed Ltd.")
    _read_name(client.pk)

    clock.value += 61
    with CaptureQueriesContext(connection) as captured:
        assert _read_name(client.pk) == "Refreshed Ltd."

    assert _key_queries(captured) == 1


def test_a_download_checks_the_key_at_once_whatever_the_cache(clock, alice, login, settings):
    settings.VAULT_KEY_CACHE_SECONDS = 3600
    matter = MatterFactory()
    grant(alice, matter, GrantLevel.DOWNLOAD)
    document = make_document(matter, title="Shredded elsewhere", content=b"%PDF-1.4 shredded\n")
    browser = login(alice)
    url = reverse("matters:document_download", args=[document.pk])
    assert b"".join(browser.get(url).streaming_content) == b"%PDF-1.4 shredded\n"

    _destroy_elsewhere(matter.client)  # no time passes: the cache still holds the key
    response = browser.get(url)

    assert response.status_code == 410
    assert b"shredded" not in response.content
    refused = AuditEvent.objects.filter(action=AuditAction.DOCUMENT_DOWNLOAD, outcome=Outcome.FAILURE).get()
    assert refused.document_id == document.pk
    assert refused.record["detail"]["reason"] == "destroyed"
