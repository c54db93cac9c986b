"""Benchmark the vault: field and blind-index cost, the matter list before/after, documents, KEK rewrap, rotation.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.vault [--scale S]
        [--document-mib N] [--rewrap-keys N] [--rotation-matters N] [--no-list]

Measures, against the targets of issue 4:

1. sealing and opening one field value (``envelope.seal`` + ``envelope.open_envelope``,
   key cached) of 20 B, 200 B and 1 KB, and one blind index (no database);
2. the matter list view with encrypted fields against the same view before the
   vault: a git worktree of the last commit before it (``--before-commit``) runs
   ``bench/list_probe.py`` on its own generated firm, alternating with the same
   probe on this tree's (encrypted) firm, block by block;
3. a document's upload (``EncryptedFieldFile.save``) and download (``open_plaintext()``
   copied to a file, and the download view's streamed response written to a file, as a
   server writes it to a socket) against a raw copy of the same file, each in a fresh
   process, with its peak memory growth;
4. rotating one client's data key over its rows (``start_key_rotation``,
   ``continue_key_rotation`` until done);
5. rewrapping every data key under a new KEK version (``rewrap_data_keys``).

Creates its own database (``custos_bench_vault``) and, for the "before" side,
``custos_bench_vault_before``, anew unless ``--skip-generate`` (the KEK the rewrap
added is recorded with the database's keys, so a later run still reads it).
Prints a table and PASS/FAIL per target, writes JSON to ``bench/results/``.
Exits 1 when a target is missed, 2 when the benchmark cannot run. See
bench/README.md, "Vault".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from bench.generate import KEYS_DIR, BenchSetupError, Plan, database_url, fill, prepare, with_database
from bench.run import RESULTS_DIR, summarise, write_json

DEFAULT_DATABASE = "custos_bench_vault"
BEFORE_DATABASE = "custos_bench_vault_before"
BEFORE_COMMIT = "4a0bca5"
BEFORE_TREE = Path(tempfile.gettempdir()) / "custos-before"
ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
CHUNK = MIB  # raw copies and reads move 1 MiB at a time, as the encrypted path does (segments)
READER_USERNAME = "vault-bench-reader"

# The acceptance targets of issue 4: (label, measurement, value key, limit, higher is better).
TARGETS = (
    ("field encrypt+decrypt ≤ 3 µs per value ≤ 1 KB", "field", "worst_us", 3.0, False),
    ("blind index ≤ 2 µs per value", "blind_index", "worst_us", 2.0, False),
    ("matter list ≤ 10% slower than before the vault (p50)", "list", "ratio_p50", 1.10, False),
    ("document upload ≥ 0.8x a raw copy", "document.upload", "ratio", 0.8, True),
    ("document download ≥ 0.8x a raw copy", "document.download", "ratio", 0.8, True),
    ("document peak memory growth < 16 MB", "document", "peak_rss_growth_mb", 16.0, False),
    ("KEK rewrap ≥ 15,000 data keys/s", "rewrap", "keys_per_s", 15000, True),
)


@dataclass(frozen=True)
class VaultPlan:
    """How much to measure. The defaults are the sizes the targets are set for."""

    micro_values: int = 20_000
    micro_repeats: int = 7
    list_scale: float = 1.0
    list_iterations: int = 200
    list_blocks: int = 4
    list_warmup: int = 10
    document_bytes: int = 1024 * MIB
    document_repeats: int = 3
    rewrap_keys: int = 100_000
    rotation_matters: int = 10_000  # and as many parties: 2N + 1 rows with the client

    @classmethod
    def tiny(cls) -> VaultPlan:
        """Seconds on any PostgreSQL: proves the machinery, measures nothing (the smoke test)."""
        return cls(
            micro_values=200,
            micro_repeats=2,
            list_scale=0.001,
            list_iterations=2,
            list_blocks=2,
            list_warmup=0,
            document_bytes=3 * MIB + 12345,
            document_repeats=1,
            rewrap_keys=2_000,
            rotation_matters=300,
        )


@dataclass(frozen=True)
class ListSides:
    """Where the two sides of the list comparison run: a source tree and a database URL each."""

    before_tree: Path
    before_url: str
    after_tree: Path
    after_url: str


# --- 1. Per value ------------------------------------------------------------------------


def _cached_key():
    """A data key in the keyring's cache, as a running process holds its clients' keys."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from vault import keyring

    material = os.urandom(32)
    live = keyring.LiveKey(7_000_000_000_000_000_001, str(uuid.uuid4()), material, AESGCM(material))
    keyring._by_id.put(live.id, live)  # the cache open_envelope reads; no database behind this key
    return live


def _per_value_us(run: Callable[[], None], count: int, repeats: int) -> dict:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) / count * 1e6)
    return {"us": round(statistics.median(timings), 3), "min_us": round(min(timings), 3), "values": count}


def measure_fields(plan: VaultPlan) -> dict:
    from vault.envelope import location, open_envelope, seal

    key = _cached_key()
    result = {}
    for size in (20, 200, 1024):
        values = [os.urandom(size // 2).hex()[:size] for _ in range(64)]
        places = [location("matters.matter", "title", uuid.uuid4()) for _ in range(64)]
        pairs = [(values[n % 64], places[n % 64]) for n in range(plan.micro_values)]

        def run(pairs=pairs):
            for value, where in pairs:
                if open_envelope(seal(key, value, where), where) != value:
                    raise AssertionError("a sealed value did not open to itself")

        result[f"{size}B"] = _per_value_us(run, len(pairs), plan.micro_repeats)
    result["worst_us"] = max(entry["us"] for entry in result.values())
    return result


def measure_blind_index(plan: VaultPlan) -> dict:
    from vault.blind import blind_index

    samples = {
        "name_latin": ("Jade Harbour Holdings 4721 Ltd.", "name"),
        "name_chinese": ("上海 翡翠港 控股有限公司", "name"),
        "identifier": ("9131 0000 MA1FL8XQ3X", "identifier"),
    }
    result = {}
    for label, (value, kind) in samples.items():
        values = [f"{value}{n % 97}" for n in range(plan.micro_values)]

        def run(values=values, kind=kind):
            for text in values:
                blind_index(text, kind)

        result[label] = _per_value_us(run, len(values), plan.micro_repeats)
    result["worst_us"] = max(entry["us"] for entry in result.values())
    return result


# --- 2. The matter list, before and after --------------------------------------------------


def _probe(tree: Path, url: str, iterations: int, warmup: int, env: dict) -> dict[str, list[float]]:
    completed = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, str(ROOT / "bench" / "list_probe.py"), str(tree), url, str(iterations), str(warmup)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchSetupError(f"The list probe failed in {tree}:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def measure_list(plan: VaultPlan, sides: ListSides, log: Callable[[str], None]) -> dict:
    """Alternate blocks of the two sides (which goes first alternates too), so drift hits both alike."""
    env = _child_env()
    per_block = max(1, plan.list_iterations // plan.list_blocks)
    samples: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    for block in range(plan.list_blocks):
        order = ("before", "after") if block % 2 == 0 else ("after", "before")
        for side in order:
            tree, url = (
                (sides.before_tree, sides.before_url) if side == "before" else (sides.after_tree, sides.after_url)
            )
            for name, values in _probe(tree, url, per_block, plan.list_warmup, env).items():
                samples[side].setdefault(name, []).extend(values)
        log(f"  list block {block + 1}/{plan.list_blocks} done")
    result: dict = {}
    for side in ("before", "after"):
        for name, values in samples[side].items():
            result[f"{side}.{name}"] = summarise(values)
    for case in ("view.list.typical", "view.list.low"):
        before, after = result[f"before.{case}"], result[f"after.{case}"]
        result[f"ratio.{case}"] = {
            "p50": round(after["p50_ms"] / before["p50_ms"], 3),
            "p95": round(after["p95_ms"] / before["p95_ms"], 3),
        }
    result["ratio_p50"] = result["ratio.view.list.typical"]["p50"]
    result["ratio_p95"] = result["ratio.view.list.typical"]["p95"]
    return result


def keep_keks(database: str, keks: str) -> None:
    """Record the KEKs the bench database is wrapped under now (after the rewrap)."""
    path = KEYS_DIR / f"{database}.keys.json"
    if path.exists():
        keys = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**keys, "VAULT_KEKS": keks}), encoding="utf-8")


def prepare_before_side(
    url: str, tree: Path, commit: str, scale: float, log: Callable[[str], None], *, generate: bool = True
) -> tuple:
    """A worktree of ``commit`` (made if missing) with its own firm generated by its own generator."""
    made = False
    if not tree.exists():
        subprocess.run(  # noqa: S603
            ["git", "worktree", "add", "--detach", str(tree), commit],  # noqa: S607
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        made = True
    if not generate:
        return with_database(url, BEFORE_DATABASE), made
    log(f"Generating the pre-vault firm in {tree} ({commit}) into {BEFORE_DATABASE} …")
    env = {**_child_env(), "DATABASE_URL": url}
    for name in ("VAULT_KEKS", "VAULT_BLIND_INDEX_KEY"):
        env.pop(name, None)
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.generate", "--scale", str(scale), "--database", BEFORE_DATABASE],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchSetupError(f"Generating the pre-vault firm failed:\n{completed.stderr[-3000:]}")
    return with_database(url, BEFORE_DATABASE), made


def remove_worktree(tree: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False, capture_output=True)  # noqa: S603, S607


# --- 3. Documents --------------------------------------------------------------------------


def current_database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _child_env() -> dict:
    """The environment of a child process: same database, same vault keys, same document storage."""
    from django.conf import settings

    from matters.models import Document

    env = {**os.environ, "CUSTOS_ENV": "test", "PYTHONPATH": str(ROOT)}
    env.update(
        DATABASE_URL=current_database_url(),
        VAULT_KEKS=settings.VAULT_KEKS,
        VAULT_BLIND_INDEX_KEY=settings.VAULT_BLIND_INDEX_KEY,
        # The field's own storage: the test suite points it at a folder of the test's.
        DOCUMENT_ROOT=str(Document._meta.get_field("file").storage.location),
    )
    return env


def _write_random_file(path: Path, size: int) -> None:
    block = os.urandom(MIB)  # incompressible content; one block repeated keeps making it fast
    with open(path, "wb") as out:
        remaining = size
        while remaining:
            piece = block[: min(MIB, remaining)]
            out.write(piece)
            remaining -= len(piece)


def _document_fixture(source: Path, size: int) -> dict:
    """A client, matter, reader with a download grant, and one stored encrypted document of ``source``."""
    from django.core.files import File

    from access.models import GrantLevel, User
    from access.services import grant_matter_access
    from matters.models import Classification, Client, Document, Matter

    client = Client.objects.create(code=f"VB-{uuid.uuid4().hex[:8]}", name="Vault Bench Documents Ltd.")
    matter = Matter.objects.create(
        number=f"VB-D-{uuid.uuid4().hex[:8]}",
        title="Document throughput",
        client=client,
        practice_area="litigation",
        classification=Classification.INTERNAL,
    )
    reader, _ = User.objects.get_or_create(username=READER_USERNAME, defaults={"email": "vault-bench@example.test"})
    grant_matter_access(actor=None, matter=matter, level=GrantLevel.DOWNLOAD, reason="bench", user=reader)
    documents = {}
    for label, path in (("big", source), ("small", source.with_name("small.bin"))):
        document = Document(
            id=uuid.uuid4(),
            matter=matter,
            title="Bench file",
            original_name=path.name,
            classification=Classification.INTERNAL,
            size=path.stat().st_size,
            content_type="application/octet-stream",
            sha256="0" * 64,
        )
        with open(path, "rb") as handle:
            document.file.save(str(document.id), File(handle), save=False)
        document.save()
        documents[label] = str(document.id)
    return {"matter": str(matter.pk), "reader": reader.pk, **documents}


class RssSampler:
    """The peak of VmRSS while running, sampled every 2 ms (max RSS alone is monotonic over the process)."""

    def __init__(self):
        self.peak_kib = self.baseline_kib = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def _run(self):
        while not self._stop.wait(0.002):
            self.peak_kib = max(self.peak_kib, self._rss())

    def __enter__(self):
        self.baseline_kib = self.peak_kib = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, self._rss())


def _copy(stream, destination) -> int:
    total = 0
    while chunk := stream.read(CHUNK):
        total += destination.write(chunk)
    return total


def child_measure(spec: dict) -> dict:
    """One measurement in this (fresh) process: warm up on the small file, then time the big one."""
    from django.core.files import File

    from matters.models import Document

    storage = Document._meta.get_field("file").storage
    kind, fixture = spec["kind"], spec["fixture"]
    source, small = Path(spec["source"]), Path(spec["source"]).with_name("small.bin")
    target = Path(storage.location) / f"bench-{uuid.uuid4().hex}"

    def raw_upload(path):
        with open(path, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        return path.stat().st_size

    def upload(path):
        document = Document.objects.select_related("matter").get(pk=fixture["small"])
        document.pk = uuid.uuid4()  # unsaved: only its file is written
        with open(path, "rb") as handle:
            document.file.save(str(document.pk), File(handle), save=False)
        Path(storage.path(document.file.name)).unlink()
        return path.stat().st_size

    def raw_download(path):
        # The same raw copy as raw_upload: what serving the file in clear would read and write.
        with open(path, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        return path.stat().st_size

    def download(path):
        document = Document.objects.get(pk=fixture["big" if path == source else "small"])
        with document.file.open_plaintext() as plain, open(target, "wb") as dst:
            return _copy(plain, dst)

    client = None

    def view(path):
        from django.conf import settings
        from django.urls import reverse

        from access.models import User
        from bench.run import signed_in_client

        nonlocal client
        client = client or signed_in_client(User.objects.get(pk=fixture["reader"]))
        pk = fixture["big" if path == source else "small"]
        response = client.get(reverse("matters:document_download", args=[pk]), secure=settings.SECURE_SSL_REDIRECT)
        if response.status_code != 200:
            raise BenchSetupError(f"The download view answered {response.status_code}.")
        total = 0
        with open(target, "wb") as dst:  # as a server writes each block to the client's socket
            for chunk in response.streaming_content:
                total += dst.write(chunk)
        response.close()
        return total

    operation = {"raw_upload": raw_upload, "upload": upload, "raw_download": raw_download}
    operation.update(download=download, view=view)
    run = operation[kind]
    run(small)  # imports, connection, templates: what a serving process has done already
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with RssSampler() as rss:
        started = time.perf_counter()
        moved = run(source)
        seconds = time.perf_counter() - started
    maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    return {
        "kind": kind,
        "bytes": moved,
        "seconds": seconds,
        "rss_growth_kib": rss.peak_kib - rss.baseline_kib,
        "maxrss_growth_kib": maxrss_after - maxrss_before,
    }


def _run_child(spec: dict, env: dict) -> dict:
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.vault", "--child", json.dumps(spec)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchSetupError(f"The {spec['kind']} measurement failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def measure_documents(plan: VaultPlan, log: Callable[[str], None]) -> dict:
    """Each of the five operations ``document_repeats`` times, interleaved, each in a fresh process."""
    work = Path(tempfile.mkdtemp(prefix="custos-bench-vault-"))
    try:
        source = work / "document.bin"
        _write_random_file(source, plan.document_bytes)
        _write_random_file(work / "small.bin", MIB + 7)
        fixture = _document_fixture(source, plan.document_bytes)
        env = _child_env()
        kinds = ("raw_upload", "upload", "raw_download", "download", "view")
        runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
        for repeat in range(plan.document_repeats):
            for kind in kinds if repeat % 2 == 0 else reversed(kinds):
                outcome = _run_child({"kind": kind, "fixture": fixture, "source": str(source)}, env)
                if outcome["bytes"] != plan.document_bytes:
                    raise BenchSetupError(f"{kind} moved {outcome['bytes']} bytes, not {plan.document_bytes}.")
                runs[kind].append(outcome)
            log(f"  documents round {repeat + 1}/{plan.document_repeats} done")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result: dict = {"bytes": plan.document_bytes}
    for kind, outcomes in runs.items():
        rates = [o["bytes"] / MIB / o["seconds"] for o in outcomes]
        result[kind] = {
            "mib_per_s": round(statistics.median(rates), 1),
            "all_mib_per_s": [round(rate, 1) for rate in rates],
            "peak_rss_growth_kib": max(o["rss_growth_kib"] for o in outcomes),
            "maxrss_growth_kib": max(o["maxrss_growth_kib"] for o in outcomes),
        }
    result["upload"]["ratio"] = round(result["upload"]["mib_per_s"] / result["raw_upload"]["mib_per_s"], 3)
    result["download"]["ratio"] = round(result["download"]["mib_per_s"] / result["raw_download"]["mib_per_s"], 3)
    result["view"]["ratio"] = round(result["view"]["mib_per_s"] / result["raw_download"]["mib_per_s"], 3)
    result["peak_rss_growth_mb"] = round(
        max(result[kind]["peak_rss_growth_kib"] for kind in ("upload", "download", "view")) * 1024 / 1e6, 2
    )
    return result


# --- 4. Client key rotation ----------------------------------------------------------------


def measure_rotation(plan: VaultPlan, log: Callable[[str], None]) -> dict:
    """A client with N matters and N parties, its key rotated through to the old key's retirement."""
    from django.test.utils import override_settings

    from matters.models import Client, Matter, Party, PartyRole
    from vault.models import KeyRotation, RotationState
    from vault.services import continue_key_rotation, start_key_rotation

    started = time.perf_counter()
    client = Client.objects.create(
        code=f"VB-R-{uuid.uuid4().hex[:8]}", name="Vault Bench Rotation Ltd.", id_type="uscc", id_number="9131000012345"
    )
    matters = [
        Matter(
            number=f"VB-R-{n:07d}-{uuid.uuid4().hex[:6]}",
            title=f"Rotation matter {n}",
            description="A matter of the rotation benchmark, with a description of ordinary length.",
            notes=f"Notes {n}",
            client=client,
            practice_area="corporate",
        )
        for n in range(plan.rotation_matters)
    ]
    Matter.objects.bulk_create(matters, batch_size=1000)
    parties = [
        Party(matter=matter, name=f"Counterparty {n} Co.", role=PartyRole.ADVERSE, id_number=f"91{n:016d}")
        for n, matter in enumerate(matters)
    ]
    Party.objects.bulk_create(parties, batch_size=1000)
    log(f"  rotation client: {2 * plan.rotation_matters + 1:,} rows in {time.perf_counter() - started:.1f} s")

    with override_settings(VAULT_KEY_CACHE_SECONDS=1):
        started = time.perf_counter()
        rotation = start_key_rotation(client.pk)
        rotation = continue_key_rotation(rotation.pk)
        main_pass = time.perf_counter() - started
        if rotation.state != RotationState.FINISHING:
            raise BenchSetupError(f"The rotation's main pass ended in state {rotation.state}, not finishing.")
        time.sleep(max(0.0, (rotation.finishing_since.timestamp() + 1.05) - time.time()))
        sweep_started = time.perf_counter()
        rotation = continue_key_rotation(rotation.pk)
        sweep = time.perf_counter() - sweep_started
    rotation = KeyRotation.objects.get(pk=rotation.pk)
    if rotation.state != RotationState.DONE:
        raise BenchSetupError(f"The rotation ended in state {rotation.state}, not done.")
    _remove_rotation_client(client)
    return {
        "rows": rotation.rows_total,
        "main_pass_s": round(main_pass, 2),
        "rows_per_s": round(rotation.rows_total / main_pass),
        "final_sweep_s": round(sweep, 2),
        "rows_per_s_with_sweep": round(rotation.rows_total / (main_pass + sweep)),
    }


def _remove_rotation_client(client) -> None:
    """Leave the firm as generated, so that a later run's list (``--skip-generate``) compares like with like."""
    from matters.models import Matter, Party
    from vault.models import DataKey, KeyRotation

    Party.objects.filter(matter__client=client).delete()
    Matter.objects.filter(client=client).delete()
    KeyRotation.objects.filter(owner=client.pk).delete()
    DataKey.objects.filter(owner=client.pk).delete()
    client.delete()


# --- 5. KEK rewrap -------------------------------------------------------------------------


def measure_rewrap(
    plan: VaultPlan, log: Callable[[str], None], on_new_kek: Callable[[str], None] | None = None
) -> dict:
    """Rewrap every data key under a new KEK version; the keys made for it are deleted afterwards.

    ``on_new_kek`` receives the new ``VAULT_KEKS`` text, which the data is now wrapped
    under (the command keeps it beside the database for a later ``--skip-generate``).
    """
    from django.conf import settings
    from django.test.utils import override_settings

    from bench.sealing import create_data_keys
    from vault.keys import new_kek_text, provider
    from vault.models import DataKey
    from vault.services import kek_status, rewrap_data_keys

    started = time.perf_counter()
    made = create_data_keys(uuid.uuid4() for _ in range(plan.rewrap_keys))
    total = DataKey.objects.filter(wrapped__isnull=False).count()
    log(f"  {plan.rewrap_keys:,} data keys made in {time.perf_counter() - started:.1f} s ({total:,} to rewrap)")
    current = provider().current_version()
    keks = f"{settings.VAULT_KEKS},{new_kek_text(current + 1)}"
    try:
        with override_settings(VAULT_KEKS=keks):
            provider.cache_clear()
            started = time.perf_counter()
            outcome = rewrap_data_keys()
            seconds = time.perf_counter() - started
            status = kek_status()
    finally:
        provider.cache_clear()
    if status["remaining"] or outcome["rewrapped"] != total:
        raise BenchSetupError(f"The rewrap left {status['remaining']} keys under older versions.")
    if on_new_kek:
        on_new_kek(keks)
    DataKey.objects.filter(pk__in=[key.id for key in made.values()]).delete()
    return {
        "keys": outcome["rewrapped"],
        "seconds": round(seconds, 2),
        "keys_per_s": round(outcome["rewrapped"] / seconds),
        "retired_versions": outcome["retired_versions"],
    }


# --- Report --------------------------------------------------------------------------------


def evaluate(measurements: dict) -> list[dict]:
    targets = []
    for label, name, key, limit, higher in TARGETS:
        source = measurements.get(name.split(".")[0])
        if source is None:
            continue
        if "." in name:
            source = source[name.split(".", 1)[1]]
        value = source[key]
        passed = value >= limit if higher else value <= limit
        targets.append({"target": label, "measurement": name, "value": value, "limit": limit, "passed": passed})
    return targets


def format_report(result: dict) -> str:
    m = result["measurements"]
    lines = ["", f"Vault benchmark · {result['machine']['cpus']} CPUs · load average {result['load_average']}", ""]
    field, blind = m["field"], m["blind_index"]
    lines.append(
        "field seal + open (µs per value):  " + "  ".join(f"{k} {field[k]['us']:.2f}" for k in field if k[0] in "12")
    )
    lines.append(
        "blind index (µs per value):        "
        + "  ".join(f"{k} {v['us']:.2f}" for k, v in blind.items() if k != "worst_us")
    )
    if "list" in m:
        lines += [
            "",
            f"{'matter list view (ms)':<40}{'before p50':>11}{'p95':>8}{'after p50':>11}{'p95':>8}"
            f"{'ratio p50':>11}{'p95':>7}",
        ]
        for case in ("view.list.typical", "view.list.low"):
            before, after, ratio = m["list"][f"before.{case}"], m["list"][f"after.{case}"], m["list"][f"ratio.{case}"]
            lines.append(
                f"{case:<40}{before['p50_ms']:>11.1f}{before['p95_ms']:>8.1f}{after['p50_ms']:>11.1f}"
                f"{after['p95_ms']:>8.1f}{ratio['p50']:>10.2f}x{ratio['p95']:>6.2f}x"
            )
    if "document" in m:
        d = m["document"]
        lines += ["", f"document of {d['bytes'] / MIB:,.1f} MiB{'':<14}{'MiB/s':>8}{'ratio':>8}{'peak RSS growth':>18}"]
        for kind in ("raw_upload", "upload", "raw_download", "download", "view"):
            ratio = f"{d[kind]['ratio']:.2f}x" if "ratio" in d[kind] else ""
            lines.append(
                f"  {kind:<34}{d[kind]['mib_per_s']:>8.0f}{ratio:>8}{d[kind]['peak_rss_growth_kib'] / 1024:>15.1f} MiB"
            )
    if "rotation" in m:
        r = m["rotation"]
        lines += [
            "",
            f"client key rotation: {r['rows']:,} rows, main pass {r['main_pass_s']} s = {r['rows_per_s']:,} rows/s; "
            f"final sweep {r['final_sweep_s']} s ({r['rows_per_s_with_sweep']:,} rows/s with it)",
        ]
    if "rewrap" in m:
        w = m["rewrap"]
        lines.append(f"KEK rewrap: {w['keys']:,} data keys in {w['seconds']} s = {w['keys_per_s']:,} keys/s")
    lines += ["", "Targets (issue 4):"]
    for target in result["targets"]:
        lines.append(f"  {'PASS' if target['passed'] else 'FAIL'}  {target['target']:<56} measured {target['value']}")
    return "\n".join(lines)


def run_vault_benchmark(
    *,
    plan: VaultPlan,
    output_dir: Path = RESULTS_DIR,
    list_sides: ListSides | None = None,
    log: Callable[[str], None] = print,
    on_new_kek: Callable[[str], None] | None = None,
) -> dict:
    """Measure in the connected database (the list on ``list_sides``, when given); print and write the JSON."""
    started = time.perf_counter()
    load = [round(os.getloadavg()[0], 2)]
    measurements: dict = {}
    log("Per value …")
    measurements["field"] = measure_fields(plan)
    measurements["blind_index"] = measure_blind_index(plan)
    if list_sides is not None:
        log("Matter list, before and after …")
        measurements["list"] = measure_list(plan, list_sides, log)
    log(f"Documents of {plan.document_bytes:,} bytes …")
    measurements["document"] = measure_documents(plan, log)
    log("Client key rotation …")
    measurements["rotation"] = measure_rotation(plan, log)
    log("KEK rewrap …")
    measurements["rewrap"] = measure_rewrap(plan, log, on_new_kek)
    load.append(round(os.getloadavg()[0], 2))
    result = {
        "seconds": round(time.perf_counter() - started, 1),
        "plan": asdict(plan),
        "load_average": load,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "measurements": measurements,
        "targets": evaluate(measurements),
    }
    log(format_report(result))
    path = write_json(result, output_dir, name="vault")
    result["json_path"] = str(path)
    log(f"\nResults written to {path}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.vault", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="the list's firm: 1 = 100,000 matters (default)")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help=f"database to recreate ({DEFAULT_DATABASE})")
    parser.add_argument("--list-iterations", type=int, default=VaultPlan.list_iterations)
    parser.add_argument("--document-mib", type=float, default=VaultPlan.document_bytes / MIB)
    parser.add_argument("--document-repeats", type=int, default=VaultPlan.document_repeats)
    parser.add_argument("--rewrap-keys", type=int, default=VaultPlan.rewrap_keys)
    parser.add_argument("--rotation-matters", type=int, default=VaultPlan.rotation_matters)
    parser.add_argument("--no-list", action="store_true", help="skip the before/after list (no worktree, no firms)")
    parser.add_argument("--skip-generate", action="store_true", help="reuse both firms of an earlier run")
    parser.add_argument("--before-commit", default=BEFORE_COMMIT, help=f"the pre-vault commit ({BEFORE_COMMIT})")
    parser.add_argument("--before-tree", type=Path, default=BEFORE_TREE, help=f"its worktree ({BEFORE_TREE})")
    parser.add_argument("--keep-before-tree", action="store_true", help="leave a worktree this run made")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="folder for the JSON result")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        from bench.generate import setup_django

        setup_django(os.environ["DATABASE_URL"])
        print(json.dumps(child_measure(json.loads(args.child))))
        return 0
    plan = VaultPlan(
        list_scale=args.scale,
        list_iterations=args.list_iterations,
        document_bytes=int(args.document_mib * MIB),
        document_repeats=args.document_repeats,
        rewrap_keys=args.rewrap_keys,
        rotation_matters=args.rotation_matters,
    )
    made_tree = False
    try:
        url = database_url()
        bench_url = prepare(url, args.database, recreate=not args.skip_generate)
        sides = None
        if not args.no_list:
            if not args.skip_generate:
                fill(Plan.for_scale(plan.list_scale))
            before_url, made_tree = prepare_before_side(
                url, args.before_tree, args.before_commit, plan.list_scale, print, generate=not args.skip_generate
            )
            sides = ListSides(args.before_tree, before_url, ROOT, bench_url)
        result = run_vault_benchmark(
            plan=plan, output_dir=args.output, list_sides=sides, on_new_kek=partial(keep_keks, args.database)
        )
    except BenchSetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    finally:
        if made_tree and not args.keep_before_tree:
            remove_worktree(args.before_tree)
    return 0 if all(target["passed"] for target in result["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
