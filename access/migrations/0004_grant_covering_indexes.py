"""Covering indexes for the grant tables, on PostgreSQL only.

The list and its count read (grantee, matter, expiry, level) for one person's
grants; with expiry and level in the index, PostgreSQL answers from the index
alone instead of visiting ~1,000 scattered table pages per person (measured in
bench/). Written as SQL because a UniqueConstraint with ``include`` is silently
not created at all on SQLite, which would lose the one-grant-per-matter rule
there; the unique constraints stay as they are.
"""

from django.db import migrations

INDEXES = [
    ("access_matterusergrant", "user_grant_covering", "user_id"),
    ("access_mattergroupgrant", "group_grant_covering", "group_id"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, grantee in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({grantee}, content_object_id) "
            "INCLUDE (expires_at, permission_id)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, name, _grantee in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("access", "0003_session_labels")]

    operations = [migrations.RunPython(create, drop)]
