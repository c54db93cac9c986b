"""Benchmark the matter list and matter page against stock django-guardian, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.run [--scale S]
        [--iterations N] [--skip-generate]

Generates the data (``bench.generate``) into its own database unless told to
reuse it, then times, on the same data and interleaved in the same loop:

- the list page's database work exactly as ``matters.views.matter_list`` does it
  (first page of ``visible_matters`` with its ``select_related`` and order, plus
  ``count_visible_matters``), for typical people and the low-selectivity person,
  with and without a search;
- the count alone, and its SQL re-sent as captured (the database's share of it,
  without the ORM's);
- the matter page's database work (``get_matter_for`` and the detail queries);
- stock guardian ``get_objects_for_user`` (any of the four grant permissions,
  object permissions only), same order, same first page, plus its ``count()``;
- the full list and matter views through Django's test client, signed in with
  both factors.

Prints a table, the ratio to guardian, PASS/FAIL per target and EXPLAIN ANALYZE of
the list and count queries; writes everything as JSON to ``bench/results/``.
Exits 1 when a target is missed, 2 when the benchmark cannot run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.generate import (
    LOW_SELECTIVITY_USERNAME,
    SEARCH_TERM,
    USER_PREFIX,
    BenchSetupError,
    Plan,
    add_database_arguments,
    database_url,
    fill,
    prepare,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
GUARDIAN_PERMS = ["matters.view_matter", "matters.download_matter", "matters.change_matter", "matters.manage_matter"]
TYPICAL_SAMPLE = 10
DETAIL_MATTERS_PER_USER = 5


# The acceptance targets of issue 2: (label, measurement, statistic, limit, higher is better).
TARGETS = (
    ("list p95 ≤ 30 ms (typical person, page + count)", "custos.list.typical", "p95", 30, False),
    ("≥ 2x faster than stock guardian (list p95)", "ratio.list.typical", "p95", 2, True),
    ("count p95 ≤ 5 ms (typical person)", "custos.count.typical", "p95", 5, False),
    ("low-selectivity list p95 ≤ 30 ms", "custos.list.low", "p95", 30, False),
)


@dataclass
class Subjects:
    """Who and what is measured: a sample of typical people, the low-selectivity person, matters to open."""

    typical: list
    low: object
    detail: list = field(default_factory=list)  # (user, matter pk) pairs the user may view
    search_q: object = None


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least ``share`` of the samples at or below it."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summarise(samples: list[float]) -> dict:
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p95_ms": round(percentile(samples, 0.95), 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "min_ms": round(min(samples), 3),
        "max_ms": round(max(samples), 3),
        "n": len(samples),
    }


# --- What is measured --------------------------------------------------------------------


def choose_subjects() -> Subjects:
    from access.models import User
    from access.policy import visible_matters
    from matters.forms import MatterFilterForm

    people = list(User.objects.filter(username__startswith=USER_PREFIX).order_by("username"))
    low = User.objects.filter(username=LOW_SELECTIVITY_USERNAME).first()
    if not people or low is None:
        raise BenchSetupError("The database holds no benchmark data: run without --skip-generate.")
    typical = [people[k * len(people) // TYPICAL_SAMPLE] for k in range(min(TYPICAL_SAMPLE, len(people)))]
    detail = []
    for user in typical:
        pks = list(visible_matters(user).order_by("number").values_list("pk", flat=True))
        step = max(1, len(pks) // DETAIL_MATTERS_PER_USER)
        detail += [(user, pk) for pk in pks[::step][:DETAIL_MATTERS_PER_USER]]
    form = MatterFilterForm({"q": SEARCH_TERM})
    form.is_valid()
    return Subjects(typical=typical, low=low, detail=detail, search_q=form.matter_q())


def _custos_page(user, matter_q, page_size: int) -> tuple[int, int]:
    """The list view's database work: the first page (with its joins and order) and the count."""
    from access.policy import count_visible_matters, visible_matters

    count = count_visible_matters(user, matter_q=matter_q)
    matters = visible_matters(user, matter_q=matter_q, known_count=count)
    rows = list(matters.select_related("client", "responsible_partner").order_by("-opened_on", "number")[:page_size])
    return len(rows), count


def _custos_count(user, matter_q) -> int:
    from access.policy import count_visible_matters

    return count_visible_matters(user, matter_q=matter_q)


def _guardian_queryset(user, matter_q):
    from guardian.shortcuts import get_objects_for_user

    from matters.models import Matter

    matters = get_objects_for_user(
        user, GUARDIAN_PERMS, klass=Matter, any_perm=True, accept_global_perms=False, with_superuser=False
    )
    return matters.filter(matter_q) if matter_q is not None else matters


def _guardian_page(user, matter_q, page_size: int) -> tuple[int, int]:
    matters = _guardian_queryset(user, matter_q).select_related("client", "responsible_partner")
    rows = list(matters.order_by("-opened_on", "number")[:page_size])
    return len(rows), matters.count()


def _guardian_count(user, matter_q) -> int:
    return _guardian_queryset(user, matter_q).count()


def _custos_detail(user, pk) -> int:
    """The matter page's database work, as ``matters.views.matter_detail`` does it (without rendering)."""
    from access.models import MatterGroupGrant, MatterUserGrant
    from access.policy import Action, can, get_matter_for

    matter = get_matter_for(user, pk, Action.VIEW)
    parties = list(matter.parties.all())
    documents = list(matter.documents.select_related("uploaded_by"))
    people = MatterUserGrant.objects.live().filter(content_object=matter).select_related("user", "permission")
    teams = MatterGroupGrant.objects.live().filter(content_object=matter).select_related("group", "permission")
    levels = [grant.level for grant in [*people, *teams]]
    can(user, Action.DOWNLOAD, matter)
    can(user, Action.EDIT, matter)
    return len(parties) + len(documents) + len(levels)


def signed_in_client(user):
    """A test client whose session passed password and second factor as ``user`` (as the test suite's)."""
    from django.conf import settings
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from access.sessions import AUTH_AT, SEEN_AT

    host = next((h for h in settings.ALLOWED_HOSTS if h not in ("*", "") and not h.startswith(".")), "localhost")
    client = Client(SERVER_NAME=host)
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = device or TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[AUTH_AT] = session[SEEN_AT] = int(time.time())
    session.save()
    return client


def _get(client, url: str, data=None) -> int:
    from django.conf import settings

    response = client.get(url, data, secure=settings.SECURE_SSL_REDIRECT)
    if response.status_code != 200:
        raise BenchSetupError(f"GET {url} answered {response.status_code}, not 200: the view measurement is void.")
    return len(response.content)


def _captured_sql(run: Callable[[], object]) -> list[str]:
    """The statements ``run`` sends, with their parameters bound."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        run()
    return [query["sql"] for query in captured.captured_queries]


def _run_sql(statements: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
            cursor.fetchall()


def build_cases(subjects: Subjects, *, views: bool) -> dict[str, Callable[[int], object]]:
    """Name → callable(iteration); typical people and matters rotate with the iteration."""
    from django.conf import settings
    from django.urls import reverse

    page = settings.MATTERS_PAGE_SIZE
    typical, low, search = subjects.typical, subjects.low, subjects.search_q

    def pick(i):
        return typical[i % len(typical)]

    cases: dict[str, Callable[[int], object]] = {}
    for system, page_fn, count_fn in (
        ("custos", _custos_page, _custos_count),
        ("guardian", _guardian_page, _guardian_count),
    ):
        for who, user_of in (("typical", pick), ("low", lambda i: low)):
            for suffix, matter_q in (("", None), (".search", search)):
                cases[f"{system}.list.{who}{suffix}"] = lambda i, f=page_fn, u=user_of, q=matter_q: f(u(i), q, page)
                cases[f"{system}.count.{who}{suffix}"] = lambda i, f=count_fn, u=user_of, q=matter_q: f(u(i), q)
        # The count's statements alone, re-sent as captured: the database's share of the count's time.
        count_sql = {user.pk: _captured_sql(lambda f=count_fn, u=user: f(u, None)) for user in [*typical, low]}
        cases[f"{system}.count_sql.typical"] = lambda i, s=count_sql: _run_sql(s[pick(i).pk])
        cases[f"{system}.count_sql.low"] = lambda i, s=count_sql: _run_sql(s[low.pk])
    if subjects.detail:
        detail = subjects.detail
        cases["custos.detail.typical"] = lambda i: _custos_detail(*detail[i % len(detail)])
    if views:
        clients = {user.pk: signed_in_client(user) for user in [*typical, low]}
        list_url = reverse("matters:list")
        cases["view.list.typical"] = lambda i: _get(clients[pick(i).pk], list_url)
        cases["view.list.typical.search"] = lambda i: _get(clients[pick(i).pk], list_url, {"q": SEARCH_TERM})
        cases["view.list.low"] = lambda i: _get(clients[low.pk], list_url)
        if subjects.detail:
            detail = subjects.detail

            def view_detail(i):
                user, pk = detail[i % len(detail)]
                return _get(clients[user.pk], reverse("matters:detail", args=[pk]))

            cases["view.detail.typical"] = view_detail
    return cases


def measure(cases: dict[str, Callable[[int], object]], iterations: int, warmup: int) -> dict[str, list[float]]:
    """Milliseconds per call. Cases are interleaved in a shuffled order each round, so drift hits all alike."""
    order = list(cases)
    rng = random.Random(2)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(warmup + iterations):
        rng.shuffle(order)
        for name in order:
            started = time.perf_counter()
            cases[name](round_)
            elapsed = (time.perf_counter() - started) * 1000
            if round_ >= warmup:
                samples[name].append(elapsed)
    return samples


# --- Plans and facts ---------------------------------------------------------------------


def explain(run: Callable[[], object]) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of every query ``run`` sends, as executed (parameters bound)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        run()
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plans.append({"sql": query["sql"], "plan": "\n".join(row[0] for row in cursor.fetchall())})
    return plans


def collect_plans(subjects: Subjects) -> dict[str, list[dict]]:
    from django.conf import settings

    from access.policy import visible_matters

    user, low, page = subjects.typical[0], subjects.low, settings.MATTERS_PAGE_SIZE

    def custos_rows(u):
        matters = visible_matters(u).select_related("client", "responsible_partner")
        return lambda: list(matters.order_by("-opened_on", "number")[:page])

    return {
        "custos.list.typical": explain(custos_rows(user)),
        "custos.count.typical": explain(lambda: _custos_count(user, None)),
        "custos.list.low": explain(custos_rows(low)),
        "custos.count.low": explain(lambda: _custos_count(low, None)),
        "custos.list.typical.search": explain(lambda: _custos_page(user, subjects.search_q, page)),
        "guardian.list.typical": explain(lambda: _guardian_page(user, None, page)),
        "guardian.list.low": explain(lambda: _guardian_page(low, None, page)),
    }


def count_view_queries(subjects: Subjects) -> dict[str, int]:
    """Queries per request of the list and matter views (constant whatever the grants)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    user = subjects.typical[0]
    client = signed_in_client(user)
    counts = {}
    for name, url in (("view.list.typical", reverse("matters:list")),) + (
        (("view.detail.typical", reverse("matters:detail", args=[subjects.detail[0][1]])),) if subjects.detail else ()
    ):
        with CaptureQueriesContext(connection) as captured:
            _get(client, url)
        counts[name] = len(captured.captured_queries)
    return counts


def data_facts(subjects: Subjects) -> dict:
    from django.contrib.auth.models import Group

    from access.models import MatterGroupGrant, MatterUserGrant, User
    from access.policy import count_visible_matters
    from matters.models import Matter

    matters = Matter.objects.count()
    typical_counts = sorted(count_visible_matters(u) for u in subjects.typical)
    low_count = count_visible_matters(subjects.low)
    return {
        "matters": matters,
        "users": User.objects.count(),
        "groups": Group.objects.count(),
        "user_grants": MatterUserGrant.objects.count(),
        "group_grants": MatterGroupGrant.objects.count(),
        "typical_visible_min": typical_counts[0],
        "typical_visible_median": int(statistics.median(typical_counts)),
        "typical_visible_max": typical_counts[-1],
        "low_selectivity_visible": low_count,
        "low_selectivity_share_pct": round(100 * low_count / matters, 3) if matters else 0,
        "search_term": SEARCH_TERM,
    }


def server_facts() -> dict:
    from django.db import connection

    names = (
        "server_version",
        "shared_buffers",
        "work_mem",
        "effective_cache_size",
        "random_page_cost",
        "jit",
        "max_parallel_workers_per_gather",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)", [list(names)])
        facts = dict(cursor.fetchall())
    facts.update(database=connection.settings_dict["NAME"], cpus=os.cpu_count(), python=platform.python_version())
    return facts


# --- Report ------------------------------------------------------------------------------


def evaluate(summary: dict[str, dict]) -> tuple[dict[str, dict], list[dict]]:
    ratios = {}
    for name in summary:
        if name.startswith("custos.") and f"guardian.{name[7:]}" in summary:
            ours, stock = summary[name], summary[f"guardian.{name[7:]}"]
            ratios[f"ratio.{name[7:]}"] = {
                "p50": round(stock["p50_ms"] / ours["p50_ms"], 2),
                "p95": round(stock["p95_ms"] / ours["p95_ms"], 2),
            }
    targets = []
    for label, name, stat, limit, higher_is_better in TARGETS:
        source = ratios.get(name) if name.startswith("ratio.") else summary.get(name)
        if source is None:
            continue
        value = source[stat] if name.startswith("ratio.") else source[f"{stat}_ms"]
        passed = value >= limit if higher_is_better else value <= limit
        targets.append({"target": label, "measurement": name, "value": value, "limit": limit, "passed": passed})
    return ratios, targets


LABELS = {
    "list": "list page (25 rows + count)",
    "count": "count alone",
    "count_sql": "count alone, its SQL re-sent (database share)",
    "detail": "matter page queries",
}


def _label(name: str) -> str:
    parts = name.split(".")
    who = {"typical": "typical person", "low": "low-selectivity person"}[parts[2]]
    search = ", exact client-name search" if parts[-1] == "search" else ""
    if parts[0] == "view":
        what = {"list": "GET /matters/", "detail": "GET /matters/<pk>/"}[parts[1]]
        return f"view  {what} · {who}{search}"
    return f"{LABELS[parts[1]]} · {who}{search}"


def format_report(result: dict) -> str:
    summary, ratios = result["measurements"], result["ratios"]
    facts = result["data"]
    lines = [
        "",
        f"Matter list benchmark · {facts['matters']:,} matters · {facts['user_grants']:,} person grants · "
        f"{facts['group_grants']:,} team grants · {result['iterations']} iterations (+{result['warmup']} warm-up)",
        f"typical people see {facts['typical_visible_min']:,}-{facts['typical_visible_max']:,} matters; "
        f"the low-selectivity person {facts['low_selectivity_visible']:,} ({facts['low_selectivity_share_pct']}%)",
        f"PostgreSQL {result['server']['server_version']} · {result['server']['cpus']} CPUs · load average "
        f"{result['load_average']['before']:.1f} before, {result['load_average']['after']:.1f} after",
        "",
        f"{'measurement':<62}{'Custos p50':>11}{'p95':>8}{'guardian p50':>14}{'p95':>8}{'ratio p50':>11}{'p95':>7}",
    ]
    for name in summary:
        if name.startswith("guardian."):
            continue
        ours = summary[name]
        row = f"{_label(name):<62}{ours['p50_ms']:>11.2f}{ours['p95_ms']:>8.2f}"
        stock = summary.get("guardian." + name.removeprefix("custos."))
        if name.startswith("custos.") and stock:
            ratio = ratios["ratio." + name.removeprefix("custos.")]
            row += f"{stock['p50_ms']:>14.2f}{stock['p95_ms']:>8.2f}{ratio['p50']:>10.1f}x{ratio['p95']:>6.1f}x"
        lines.append(row)
    lines += ["", "Targets (issue 2):"]
    for target in result["targets"]:
        unit = "x" if target["measurement"].startswith("ratio.") else " ms"
        verdict = "PASS" if target["passed"] else "FAIL"
        lines.append(f"  {verdict}  {target['target']:<52} measured {target['value']:.2f}{unit}")
    if result.get("view_queries"):
        lines.append("")
        lines.append(
            "Queries per request: " + ", ".join(f"{name} {count}" for name, count in result["view_queries"].items())
        )
    return "\n".join(lines)


def format_plans(plans: dict[str, list[dict]], names=("custos.list.typical", "custos.count.typical")) -> str:
    lines = []
    for name in names:
        for query in plans.get(name, []):
            lines += ["", f"EXPLAIN ANALYZE · {name}", query["sql"], "", query["plan"]]
    return "\n".join(lines)


def write_json(result: dict, output_dir: Path, name: str = "matter-list") -> Path:
    """The result as ``<name>-<UTC time>.json`` in ``output_dir`` (each benchmark names its own)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"{name}-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return path


class Clock:
    """When a benchmark started and the load then: the opening of its result (see :meth:`result`)."""

    def __init__(self):
        self.load_before = os.getloadavg()[0]
        self.started = time.perf_counter()

    def result(self, plan, facts: dict, **parts) -> dict:
        """The result's common fields — start, duration, plan, load, machine facts — then ``parts``."""
        return {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - self.started, 1),
            "plan": asdict(plan),
            "load_average": {"before": self.load_before, "after": os.getloadavg()[0]},
            "facts": facts,
            **parts,
        }


def publish(result: dict, report: str, output_dir: Path, name: str, log: Callable[[str], None]) -> dict:
    """Print the report, write the JSON, and say where (the last step of every benchmark)."""
    log(report)
    path = write_json(result, output_dir, name=name)
    result["json_path"] = str(path)
    log(f"\nResults written to {path}")
    return result


def exit_status(run: Callable[[], dict], *checks: str) -> int:
    """A benchmark's exit status: 0 when every item of ``result[check]`` for each of ``checks``
    passed, 1 when one failed, 2 when it could not run."""
    from bench.generate import BenchSetupError

    try:
        result = run()
    except BenchSetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    return 0 if all(item["passed"] for check in checks for item in result[check]) else 1


def run_benchmark(
    *,
    iterations: int = 100,
    warmup: int = 10,
    output_dir: Path = RESULTS_DIR,
    views: bool = True,
    plan: Plan | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Measure on the data in the connected database; print the report and write the JSON. Returns the result."""
    subjects = choose_subjects()
    cases = build_cases(subjects, views=views)
    log(f"Measuring {len(cases)} cases x {iterations} iterations …")
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    samples = measure(cases, iterations, warmup)
    load_after = os.getloadavg()[0]
    summary = {name: summarise(values) for name, values in samples.items()}
    ratios, targets = evaluate(summary)
    result = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "iterations": iterations,
        "warmup": warmup,
        "plan": asdict(plan) if plan else None,
        # Other work on the machine inflates the tail; the 1-minute load average says how much there was.
        "load_average": {"before": load_before, "after": load_after},
        "server": server_facts(),
        "data": data_facts(subjects),
        "measurements": summary,
        "ratios": ratios,
        "targets": targets,
        "view_queries": count_view_queries(subjects) if views else {},
        "explain": collect_plans(subjects),
    }
    log(format_report(result))
    log(format_plans(result["explain"]))
    path = write_json(result, output_dir)
    result["json_path"] = str(path)
    log(f"\nResults written to {path}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    add_database_arguments(parser)
    parser.add_argument("--iterations", type=int, default=100, help="timed rounds per measurement (default 100)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed rounds first (default 10)")
    parser.add_argument("--skip-generate", action="store_true", help="reuse the data already in the bench database")
    parser.add_argument("--no-views", action="store_true", help="skip the full views through the test client")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="folder for the JSON result")
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.warmup < 0:
        parser.error("--iterations must be at least 1 and --warmup at least 0")
    try:
        prepare(database_url(), args.database, recreate=not args.skip_generate)
        plan = None
        if not args.skip_generate:
            plan = Plan.for_scale(args.scale)
            fill(plan)
        result = run_benchmark(
            iterations=args.iterations, warmup=args.warmup, output_dir=args.output, views=not args.no_views, plan=plan
        )
    except BenchSetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    return 0 if all(target["passed"] for target in result["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
