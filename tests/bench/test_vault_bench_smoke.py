"""The vault benchmark works end to end: every phase reports its numbers and the JSON is written.

Tiny sizes in the test database, to prove the machinery only; the numbers mean
nothing here (see bench/README.md, "Vault", for the real run). Both sides of the
list comparison run this tree against the test database: the real run puts a
worktree of the commit before the vault on the "before" side.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection

from bench.generate import Plan, fill
from bench.vault import ROOT, TARGETS, ListSides, VaultPlan, current_database_url, run_vault_benchmark
from matters.models import Client, Matter
from vault import keyring
from vault.keys import provider
from vault.models import DataKey, KeyRotation


@pytest.fixture
def fresh_vault_caches():
    # The rewrap retires KEK version 1 in this process's caches: later tests must not inherit that.
    yield
    provider.cache_clear()
    keyring.clear_cache()


# Child processes (the list probe, each document measurement) read what this test wrote: committed data.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_vault_benchmark_measures_everything_and_writes_its_json(tmp_path, fresh_vault_caches):
    fill(Plan.for_scale(0.001), log=lambda line: None)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT title FROM {Matter._meta.db_table} LIMIT 1")  # noqa: S608 (our table)
        assert cursor.fetchone()[0].startswith("vault1:"), "the generator stored a title in clear"
    url = current_database_url()
    plan = VaultPlan.tiny()

    result = run_vault_benchmark(
        plan=plan, output_dir=tmp_path, list_sides=ListSides(ROOT, url, ROOT, url), log=lambda line: None
    )

    measured = result["measurements"]
    assert set(measured) == {"field", "blind_index", "list", "document", "rotation", "rewrap"}
    for size in ("20B", "200B", "1024B"):
        assert measured["field"][size]["us"] > 0
    for kind in ("name_latin", "name_chinese", "identifier"):
        assert measured["blind_index"][kind]["us"] > 0
    for side in ("before", "after"):
        for case in ("view.list.typical", "view.list.low"):
            assert measured["list"][f"{side}.{case}"]["n"] == plan.list_iterations, (side, case)
    assert measured["list"]["ratio_p50"] > 0 and measured["list"]["ratio_p95"] > 0

    document = measured["document"]
    assert document["bytes"] == plan.document_bytes
    for kind in ("raw_upload", "upload", "raw_download", "download", "view"):
        assert document[kind]["mib_per_s"] > 0, kind
        assert len(document[kind]["all_mib_per_s"]) == plan.document_repeats
        assert document[kind]["peak_rss_growth_kib"] >= 0
    assert {"ratio"} <= set(document["upload"]) & set(document["download"]) & set(document["view"])

    rotation = measured["rotation"]
    assert rotation["rows"] == 2 * plan.rotation_matters + 1
    assert rotation["rows_per_s"] > 0
    # The rotation reached DONE (measure_rotation raises otherwise), then its client was
    # removed so that the firm stays as generated for the next run's list.
    assert not KeyRotation.objects.exists()
    assert not Client.objects.filter(code__startswith="VB-R-").exists()

    rewrap = measured["rewrap"]
    assert rewrap["keys"] >= plan.rewrap_keys
    assert rewrap["keys_per_s"] > 0
    assert not DataKey.objects.filter(wrapped__isnull=False).exclude(kek_version=2).exists()

    assert [target["measurement"] for target in result["targets"]] == [target[1] for target in TARGETS]
    written = json.loads(Path(result["json_path"]).read_text(encoding="utf-8"))
    assert Path(result["json_path"]).parent == tmp_path
    assert written["targets"] == result["targets"]
    assert written["measurements"]["rewrap"] == rewrap
