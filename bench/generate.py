"""Fill a PostgreSQL database with a large firm's matters and grants, fast.

Everything is generated inside the server with set-based SQL (``INSERT …
SELECT … generate_series``), so a full-scale run (100,000 matters, 1,000
users, 1,000,000 person grants, 100,000 team grants, 200,000 parties and
documents) takes about a minute instead of hours of ORM saves. The data is
shaped like the real thing: grants use the real ``auth_permission`` rows of the
four grant levels, a few percent have expired or will expire, people belong to
one to three teams, and one person — the *low-selectivity* user — sees only a
quarter of a percent of the matters, the case where walking the matter list in
order and filtering row by row is slowest.

Used by ``bench.run``; on its own::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.generate --scale 0.01

The command (re)creates its own database (``custos_bench`` by default) on that
server, migrates it and fills it. :func:`fill` fills whatever database Django
is connected to, which must hold no matters yet (the smoke test uses the test
database).

Client data is encrypted (vault): the values are generated in clear by SQL, then
every client gets a data key and every value is sealed in place in bulk
(``bench.sealing``), inside the same transaction, so no clear value is ever
committed. The keys a bench database was encrypted under are kept beside it in
``var/bench/<database>.keys.json`` (made on a fresh run, read by a later
``--skip-generate``), unless ``VAULT_KEKS``/``VAULT_BLIND_INDEX_KEY`` are set.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

USER_PREFIX = "bench-user-"
LOW_SELECTIVITY_USERNAME = "bench-lowsel"
GROUP_PREFIX = "bench-team-"
SMALL_GROUP_NAME = "bench-small-team"
CLIENT_PREFIX = "BC-"
MATTER_PREFIX = "BM-"
DEFAULT_DATABASE = "custos_bench"

# Titles are "<subject> — <place>" (encrypted: not searchable).
SUBJECTS = (
    "Arbitration",
    "Share acquisition",
    "Supply dispute",
    "Trademark opposition",
    "Patent licence",
    "Employment claim",
    "Loan facility",
    "Lease negotiation",
    "Tax audit",
    "Internal investigation",
    "Joint venture",
    "Regulatory inquiry",
)
# Search is exact on a client's or party's name (through its blind index): SEARCH_TERM is the
# name of one large client holding 1% of the matters (a typical person sees 10-40 of them).
SEARCH_TERM = "Jade Harbour Holdings Ltd."
SEARCH_CLIENT_SHARE = 0.01
PLACES = ("Shanghai", "Beijing", "Shenzhen", "Hong Kong", "Singapore", "London", "Frankfurt", "New York")
CLIENT_WORDS = ("Nimbus", "Harbour", "Jade", "Summit", "Lotus", "Meridian", "Crescent", "Pioneer", "Orchid", "Granite")
CLIENT_KINDS = ("Holdings", "Trading", "Technology", "Logistics", "Capital", "Pharma", "Energy", "Foods")
DEPARTMENTS = ("litigation", "corporate", "ip", "employment", "finance", "compliance")

# How grants are spread: level by share (view is the commonest), and expiry.
LEVEL_SHARES = (("view_matter", 0.55), ("download_matter", 0.25), ("change_matter", 0.15), ("manage_matter", 0.05))
EXPIRED_SHARE = 0.03
EXPIRING_SHARE = 0.03


class BenchSetupError(Exception):
    """The benchmark cannot run here; the message says why and what to do."""


@dataclass(frozen=True)
class Plan:
    """How much to generate. ``for_scale(1)`` is the size the targets are set for."""

    scale: float
    matters: int
    clients: int
    users: int
    grants_per_user: int
    groups: int
    grants_per_group: int
    low_selectivity_direct: int
    low_selectivity_via_team: int

    @classmethod
    def for_scale(cls, scale: float) -> Plan:
        """Users and matters grow with the scale; each person keeps ~1% of matters, so query shapes stay alike."""
        if scale <= 0:
            raise ValueError("scale must be positive")
        # At least 1,000 matters, so that even the smallest run has a low-selectivity person under 0.5%.
        matters = max(1_000, round(100_000 * scale))
        share = max(10, round(matters * 0.01))
        return cls(
            scale=scale,
            matters=matters,
            clients=max(20, matters // 10),
            users=max(10, round(1_000 * scale)),
            grants_per_user=min(matters // 2, share),
            groups=max(3, round(100 * scale)),
            grants_per_group=min(matters // 2, share),
            # 0.2% directly and 0.05% through a small team: 0.25% in all, under the 0.5% the issue names.
            low_selectivity_direct=max(1, round(matters * 0.002)),
            low_selectivity_via_team=max(1, round(matters * 0.0005)),
        )


# --- The database server (before Django is set up) ---------------------------------------


def postgres_config(url: str) -> dict:
    """The connection settings in ``url``; refuses anything but PostgreSQL."""
    import dj_database_url

    config = dj_database_url.parse(url)
    if "postgresql" not in config["ENGINE"] and "postgis" not in config["ENGINE"]:
        raise BenchSetupError(
            "The benchmark needs PostgreSQL; DATABASE_URL points at "
            f"{config['ENGINE'].rsplit('.', 1)[-1]}. Set DATABASE_URL=postgres://USER@HOST:5432/postgres "
            f"(the benchmark creates and uses its own database, {DEFAULT_DATABASE}, on that server)."
        )
    return config


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def ensure_database(url: str, name: str, *, recreate: bool) -> bool:
    """Create database ``name`` on ``url``'s server if missing (or anew); True when it was created."""
    import psycopg
    from psycopg import sql

    config = postgres_config(url)
    connect = {
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
        "dbname": "postgres",
    }
    try:
        with psycopg.connect(**{k: v for k, v in connect.items() if v is not None}, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
            if exists and not recreate:
                return False
            if exists:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    except psycopg.OperationalError as exc:
        raise BenchSetupError(f"Cannot reach PostgreSQL at {config['HOST']}:{config['PORT']}: {exc}") from exc


KEYS_DIR = Path(__file__).resolve().parent.parent / "var" / "bench"


def use_bench_keys(database: str, *, fresh: bool) -> None:
    """Use the vault keys kept for ``database`` (new ones for a fresh database), unless set in the environment.

    Without this the test profile would make new keys in every process, and data
    generated by one run could not be read by the next ``--skip-generate``.
    """
    if os.environ.get("VAULT_KEKS") and os.environ.get("VAULT_BLIND_INDEX_KEY"):
        return
    path = KEYS_DIR / f"{database}.keys.json"
    if fresh or not path.exists():
        keys = {
            "VAULT_KEKS": "1:" + base64.b64encode(os.urandom(32)).decode(),
            "VAULT_BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
        }
        KEYS_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(keys), encoding="utf-8")
        path.chmod(0o600)
    for name, value in json.loads(path.read_text(encoding="utf-8")).items():
        os.environ[name] = value


def setup_django(url: str) -> None:
    """Point Django at ``url`` and set it up; must run before any model import."""
    import django

    os.environ["DATABASE_URL"] = url
    # The test profile needs no secrets (it makes a throwaway SECRET_KEY) and
    # allows the local host names the runner's test client uses.
    os.environ.setdefault("CUSTOS_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lawfirm.settings")
    django.setup()


# --- Filling ------------------------------------------------------------------------------


def _pick(words: tuple[str, ...]) -> str:
    """SQL choosing one of ``words`` at random, per row."""
    literals = ", ".join("'" + word.replace("'", "''") + "'" for word in words)
    return f"(ARRAY[{literals}])[1 + floor(random() * {len(words)})::int]"


def _draws(wanted: int, population: int) -> int:
    """Random draws (with replacement) that almost surely give ``wanted`` distinct values."""
    if wanted >= population:
        return population * 4
    # Coupon collector: population · ln(population / (population - wanted)), with room to spare.
    return math.ceil(population * math.log(population / (population - wanted)) * 1.2) + 10


class _Filler:
    def __init__(self, plan: Plan, log: Callable[[str], None]):
        from django.db import connection

        self.plan = plan
        self.log = log
        self.cursor = connection.cursor()
        self.tables = self._tables()

    @staticmethod
    def _tables() -> dict[str, str]:
        from django.contrib.auth.models import Group

        from access.models import MatterGroupGrant, MatterUserGrant, User
        from matters.models import Client, Document, Matter, Party

        models = {
            "user": User,
            "group": Group,
            "user_groups": User.groups.through,
            "user_grant": MatterUserGrant,
            "group_grant": MatterGroupGrant,
            "client": Client,
            "matter": Matter,
            "party": Party,
            "document": Document,
        }
        return {key: model._meta.db_table for key, model in models.items()}

    def sql(self, statement: str, params=None) -> int:
        self.cursor.execute(statement.format(**self.tables), params)
        return self.cursor.rowcount

    def step(self, label: str, statement: str, params=None) -> None:
        started = time.perf_counter()
        rows = self.sql(statement, params)
        self.log(f"  {label:<34} {rows:>10,} rows  {time.perf_counter() - started:6.1f} s")

    def index_table(self, name: str, select: str, params=None) -> None:
        """A temporary ``name(i, id)`` numbering rows 0…n-1, so random integers can pick rows."""
        self.sql(f"DROP TABLE IF EXISTS {name}")
        self.sql(
            f"CREATE TEMPORARY TABLE {name} AS "
            f"SELECT (row_number() OVER (ORDER BY k) - 1)::int AS i, id FROM ({select}) s",
            params,
        )
        self.sql(f"ALTER TABLE {name} ADD PRIMARY KEY (i)")
        self.sql(f"ANALYZE {name}")

    def fill(self, permission_ids: dict[str, int], lawyer_group_id: int) -> None:
        plan = self.plan
        self.step(
            "people",
            """INSERT INTO {user} (password, is_superuser, username, first_name, last_name, email, is_staff,
                                   is_active, date_joined, department, employment_status)
               SELECT '!', false, %s || lpad(g::text, 4, '0'), 'Bench', 'Person ' || g, 'bench' || g || '@example.test',
                      false, true, now(), """
            + _pick(DEPARTMENTS)
            + """, 'active'
               FROM generate_series(1, %s) g
               UNION ALL
               SELECT '!', false, %s, 'Bench', 'Low selectivity', 'lowsel@example.test', false, true, now(),
                      'litigation', 'active'""",
            [USER_PREFIX, plan.users, LOW_SELECTIVITY_USERNAME],
        )
        self.index_table(
            "bench_users", "SELECT username AS k, id FROM {user} WHERE starts_with(username, %s)", [USER_PREFIX]
        )
        self.step(
            "clients",
            # Organizations carry a unified social credit code (18 characters); contact details
            # stay empty, as they were before the vault, so the list's comparison is like for like.
            """INSERT INTO {client} (id, code, name, name_index, kind, id_type, id_number, id_number_index,
                                     contact_name, contact_email, contact_phone, address, legal_hold,
                                     legal_hold_reason, created_at)
               SELECT gen_random_uuid(), %s || lpad(s.g::text, 6, '0'), CASE WHEN s.g = 1 THEN %s ELSE """
            + _pick(CLIENT_WORDS)
            + " || ' ' || "
            + _pick(CLIENT_KINDS)
            + """ || ' ' || s.g || ' Ltd.' END, '', s.kind,
                      CASE WHEN s.kind = 'organization' THEN 'uscc' ELSE '' END,
                      CASE WHEN s.kind = 'organization' THEN '91310000' || upper(substr(md5(s.g::text), 1, 10))
                           ELSE '' END,
                      '', '', '', '', '', false, '', now() - random() * interval '3650 days'
               FROM (SELECT g, CASE WHEN random() < 0.2 THEN 'individual' ELSE 'organization' END AS kind
                     FROM generate_series(1, %s) g) s""",
            [CLIENT_PREFIX, SEARCH_TERM, plan.clients],
        )
        self.index_table(
            "bench_clients", "SELECT code AS k, id FROM {client} WHERE starts_with(code, %s)", [CLIENT_PREFIX]
        )
        # Partners (the first tenth of people) are responsible for matters; opened over twelve years,
        # numbered and stored in the order they were opened, as a live table would be.
        self.step(
            "matters",
            """INSERT INTO {matter} (id, number, title, description, notes, client_id, practice_area,
                                     responsible_partner_id, classification, status, opened_on, closed_on)
               SELECT gen_random_uuid(), %s || lpad((row_number() OVER (ORDER BY s.opened_on, s.g))::text, 7, '0'),
                      s.subject || ' — ' || s.place, '', '', c.id,
                      s.practice_area, p.id, s.classification, s.status, s.opened_on,
                      CASE WHEN s.status = 'closed'
                           THEN LEAST(current_date, s.opened_on + (1 + floor(s.r * 700))::int) END
               FROM (
                   SELECT g, random() AS r, """
            + _pick(SUBJECTS)
            + " AS subject, "
            + _pick(PLACES)
            + " AS place, "
            + _pick(("litigation", "corporate", "ip", "employment", "finance", "real_estate", "tax", "compliance"))
            + """ AS practice_area,
                          (ARRAY[10, 20, 20, 20, 30, 30, 30, 30, 40, 40])[1 + floor(random() * 10)::int]
                              AS classification,
                          (ARRAY['open', 'open', 'open', 'open', 'open', 'open', 'on_hold', 'closed', 'closed',
                                 'closed'])[1 + floor(random() * 10)::int] AS status,
                          current_date - floor(random() * 4380)::int AS opened_on,
                          CASE WHEN random() < %s THEN 0 ELSE floor(random() * %s)::int END AS ci,
                          floor(random() * %s)::int AS pi
                   FROM generate_series(1, %s) g
               ) s
               JOIN bench_clients c ON c.i = s.ci
               LEFT JOIN bench_users p ON p.i = s.pi
               ORDER BY s.opened_on, s.g""",
            [MATTER_PREFIX, SEARCH_CLIENT_SHARE, plan.clients, max(1, plan.users // 10), plan.matters],
        )
        self.index_table(
            "bench_matters", "SELECT number AS k, id FROM {matter} WHERE starts_with(number, %s)", [MATTER_PREFIX]
        )
        self.step(
            "person grants",
            self._grants_sql("user_grant", "user_id", "bench_users"),
            self._grant_params(permission_ids, plan.grants_per_user),
        )
        self.step(
            "teams",
            """INSERT INTO {group} (name)
               SELECT %s || lpad(g::text, 3, '0') FROM generate_series(1, %s) g UNION ALL SELECT %s""",
            [GROUP_PREFIX, plan.groups, SMALL_GROUP_NAME],
        )
        self.index_table(
            "bench_groups", "SELECT name AS k, id FROM {group} WHERE starts_with(name, %s)", [GROUP_PREFIX]
        )
        # Everyone is a lawyer (a role group: no grants, but its rows are in the join),
        # and a member of one to three teams.
        self.step(
            "team memberships",
            """INSERT INTO {user_groups} (user_id, group_id)
               SELECT id, %s FROM {user} WHERE starts_with(username, 'bench-')
               UNION ALL
               SELECT DISTINCT s.user_id, g.id FROM (
                   SELECT u.id AS user_id, floor(random() * %s)::int AS gi
                   FROM bench_users u CROSS JOIN LATERAL generate_series(1, 1 + mod(u.i, 3))
               ) s JOIN bench_groups g ON g.i = s.gi
               UNION ALL
               SELECT u.id, g.id FROM {user} u, {group} g WHERE u.username = %s AND g.name = %s""",
            [lawyer_group_id, plan.groups, LOW_SELECTIVITY_USERNAME, SMALL_GROUP_NAME],
        )
        self.step(
            "team grants",
            self._grants_sql("group_grant", "group_id", "bench_groups"),
            self._grant_params(permission_ids, plan.grants_per_group),
        )
        self.index_table(
            "bench_low", "SELECT username AS k, id FROM {user} WHERE username = %s", [LOW_SELECTIVITY_USERNAME]
        )
        self.step(
            "low-selectivity person grants",
            self._grants_sql("user_grant", "user_id", "bench_low"),
            self._grant_params(permission_ids, plan.low_selectivity_direct),
        )
        self.index_table("bench_small", "SELECT name AS k, id FROM {group} WHERE name = %s", [SMALL_GROUP_NAME])
        self.step(
            "low-selectivity team grants",
            self._grants_sql("group_grant", "group_id", "bench_small"),
            self._grant_params(permission_ids, plan.low_selectivity_via_team),
        )
        self.step(
            "parties",
            """INSERT INTO {party} (id, matter_id, name, name_index, role, id_type, id_number, id_number_index)
               SELECT gen_random_uuid(), m.id, c.name, '', 'client', '', '', ''
               FROM {matter} m JOIN {client} c ON c.id = m.client_id WHERE starts_with(m.number, %s)
               UNION ALL
               SELECT gen_random_uuid(), id, 'Adverse party of ' || number, '', 'adverse', '', '', ''
               FROM {matter} WHERE starts_with(number, %s)""",
            [MATTER_PREFIX, MATTER_PREFIX],
        )
        # Document rows without files (an empty name): the detail page lists documents and never
        # opens them, and nothing in the bench (rotation, encrypt_plaintext) then looks for a file.
        self.step(
            "documents",
            """INSERT INTO {document} (id, matter_id, title, file, original_name, classification, uploaded_by_id,
                                       size, content_type, sha256, created_at)
               SELECT d.id, d.matter_id, 'Engagement letter ' || d.n, '',
                      'engagement-letter.pdf', d.classification, d.partner_id,
                      20000 + floor(random() * 2000000)::bigint,
                      'application/pdf', md5(d.id::text) || md5(d.matter_id::text),
                      d.opened_on + interval '10 hours' + d.n * interval '1 day'
               FROM (
                   SELECT gen_random_uuid() AS id, m.id AS matter_id, m.classification,
                          m.responsible_partner_id AS partner_id,
                          m.opened_on, n
                   FROM {matter} m CROSS JOIN LATERAL generate_series(1, 1 + mod(abs(hashtext(m.number)), 3)) n
                   WHERE starts_with(m.number, %s)
               ) d""",
            [MATTER_PREFIX],
        )
        for name in ("bench_users", "bench_clients", "bench_matters", "bench_groups", "bench_low", "bench_small"):
            self.sql(f"DROP TABLE {name}")

    @staticmethod
    def _grants_sql(table: str, grantee_column: str, grantees: str) -> str:
        """Grants of ``per`` distinct random matters to each row of ``grantees``, levels and expiry mixed.

        Rows are stored in the order they were granted, so one person's grants lie
        scattered over the table as in a live database, not packed together (which
        would make every read of them look several times cheaper than it is).
        """
        return f"""
            INSERT INTO {{{table}}} ({grantee_column}, content_object_id, permission_id, reason, created_at,
                                     expires_at, granted_by_id)
            SELECT s.grantee_id, m.id,
                   CASE WHEN s.r < %(view)s THEN %(view_id)s WHEN s.r < %(download)s THEN %(download_id)s
                        WHEN s.r < %(change)s THEN %(change_id)s ELSE %(manage_id)s END,
                   'bench', now() - s.age,
                   CASE WHEN s.e < %(expired)s THEN now() - s.shift
                        WHEN s.e < %(expired)s + %(expiring)s THEN now() + s.shift END,
                   NULL
            FROM (
                SELECT d.grantee_id, d.mi, random() AS r, random() AS e, random() * interval '365 days' AS age,
                       (1 + random() * 89) * interval '1 day' AS shift,
                       row_number() OVER (PARTITION BY d.grantee_id ORDER BY random()) AS rn
                FROM (
                    SELECT DISTINCT t.id AS grantee_id, floor(random() * %(matters)s)::int AS mi
                    FROM {grantees} t CROSS JOIN generate_series(1, %(draws)s)
                ) d
            ) s
            JOIN bench_matters m ON m.i = s.mi
            WHERE s.rn <= %(per)s
            ORDER BY s.age DESC"""

    def _grant_params(self, permission_ids: dict[str, int], per: int) -> dict:
        params = {"matters": self.plan.matters, "per": per, "draws": _draws(per, self.plan.matters)}
        params.update(expired=EXPIRED_SHARE, expiring=EXPIRING_SHARE)
        cumulative = 0.0
        for codename, share in LEVEL_SHARES:
            cumulative += share
            key = codename.removesuffix("_matter")
            params[key] = cumulative
            params[f"{key}_id"] = permission_ids[codename]
        return params


def fill(plan: Plan, log: Callable[[str], None] = print) -> None:
    """Generate ``plan`` into the database Django is connected to (PostgreSQL, migrated, no matters yet)."""
    from django.contrib.auth.models import Permission
    from django.db import connection, transaction

    from access.models import GrantLevel, Role, role_group
    from bench.sealing import encrypt_generated
    from matters.models import Client, Document, Matter, Party

    if connection.vendor != "postgresql":
        raise BenchSetupError(
            f"The benchmark needs PostgreSQL, not {connection.vendor}: set DATABASE_URL=postgres://… "
            "(see bench/README.md)."
        )
    if Matter.objects.exists():
        raise BenchSetupError(
            f"{connection.settings_dict['NAME']} already holds matters; the generator fills an empty database "
            "(python -m bench.generate recreates its own)."
        )
    started = time.perf_counter()
    log(f"Generating at scale {plan.scale}: {plan}")
    with transaction.atomic():
        permission_ids = dict(
            Permission.objects.filter(content_type__app_label="matters", codename__in=GrantLevel.values).values_list(
                "codename", "id"
            )
        )
        if len(permission_ids) != len(GrantLevel.values):
            raise BenchSetupError("The matter permissions are missing: run the migrations first.")
        _Filler(plan, log).fill(permission_ids, role_group(Role.LAWYER).pk)
        encrypt_generated(log)
    # The encryption rewrote every row of these tables: compact them (in the generated order).
    analyze(log, compact=[model._meta.db_table for model in (Client, Matter, Party, Document)])
    log(f"Generated in {time.perf_counter() - started:.1f} s")


def analyze(log: Callable[[str], None] = print, compact: list[str] = ()) -> None:
    """Fresh planner statistics; VACUUM too when possible (it marks pages all-visible, the steady state).

    ``compact``: tables rewritten by VACUUM FULL first (after an UPDATE of every row, half of
    their pages would be dead versions), keeping the rows' order.
    """
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        if not connection.in_atomic_block:
            for table in compact:
                cursor.execute(f"VACUUM FULL {connection.ops.quote_name(table)}")
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
    log(f"  {'analyze':<34} {'':>15}  {time.perf_counter() - started:6.1f} s")


def prepare(url: str, database: str, *, recreate: bool) -> str:
    """Create the bench database (anew if ``recreate``), set Django up on it, migrate; returns its URL."""
    postgres_config(url)
    bench_url = with_database(url, database)
    created = ensure_database(url, database, recreate=recreate)
    use_bench_keys(database, fresh=created)
    setup_django(bench_url)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return bench_url


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 100,000 matters and 1M grants (default)")
    parser.add_argument(
        "--database", default=DEFAULT_DATABASE, help=f"database to (re)create (default {DEFAULT_DATABASE})"
    )


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise BenchSetupError(
            "DATABASE_URL is not set (Custos would use SQLite). The benchmark needs PostgreSQL: "
            f"DATABASE_URL=postgres://USER@HOST:5432/postgres (it creates its own database, {DEFAULT_DATABASE})."
        )
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    add_database_arguments(parser)
    args = parser.parse_args(argv)
    try:
        prepare(database_url(), args.database, recreate=True)
        fill(Plan.for_scale(args.scale))
    except BenchSetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
