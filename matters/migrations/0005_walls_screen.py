"""Issue 7's screen and its repairs.

- ``ConflictCheck.hit_clients``: the clients a check's hits name (a pending lateral-hire check
  screens the joiner from them); filled for the checks already run, from their hits' codes.
- A covering index on a matter's client, for the matter list's count with walls in force.
- ``ClientAlias`` takes a UUID primary key. With an integer one its encrypted name was bound to
  "None" (the key the row had before its INSERT) and could never be opened again. No screen
  creates aliases yet, so there are normally none; any there are keep their client and index,
  and their name when it opens with that binding. The table is made anew: an integer column
  cannot become a UUID in place.
"""

import uuid

import django.db.models.deletion
import vault.fields
from django.conf import settings
from django.db import migrations, models

_ALIASES: list[tuple] = []  # (client id, name index, name or None), between the two steps below


def fill_hit_clients(apps, schema_editor):
    ConflictCheck = apps.get_model("matters", "ConflictCheck")
    Client = apps.get_model("matters", "Client")
    for check in ConflictCheck.objects.exclude(hits=[]):
        codes = {hit.get("client_code") for hit in check.hits}
        check.hit_clients.set(Client.objects.filter(code__in=codes))


def keep_aliases(apps, schema_editor):
    from vault import envelope

    ClientAlias = apps.get_model("matters", "ClientAlias")
    _ALIASES.clear()
    for pk, client_id, name_index, sealed in ClientAlias.objects.values_list("pk", "client_id", "name_index", "name"):
        name = None
        for bound_to in (None, pk):
            try:
                name = envelope.open_envelope(sealed.text, envelope.location("matters.clientalias", "name", bound_to))
                break
            except Exception:  # noqa: BLE001, S112 - tampered or shredded: the index is kept without the name
                continue
        _ALIASES.append((client_id, name_index, name))


def restore_aliases(apps, schema_editor):
    if not _ALIASES:
        return
    from matters.models import ClientAlias  # the live model: sealing needs its field classes

    for client_id, name_index, name in _ALIASES:
        alias = ClientAlias(client_id=client_id, name=name or "")
        alias.save()
        # The index as it was: 0006 recomputes it, and carries prior engagements that matched it along.
        ClientAlias.objects.filter(pk=alias.pk).update(name_index=name_index)
    _ALIASES.clear()


class Migration(migrations.Migration):
    dependencies = [
        ("matters", "0004_conflict_checks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="conflictcheck",
            name="hit_clients",
            field=models.ManyToManyField(
                blank=True, related_name="+", to="matters.client", verbose_name="clients found"
            ),
        ),
        migrations.RunPython(fill_hit_clients, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="matter",
            index=models.Index(fields=["client"], include=("id",), name="matter_client_covering"),
        ),
        migrations.RunPython(keep_aliases, migrations.RunPython.noop),
        migrations.DeleteModel(name="ClientAlias"),
        migrations.CreateModel(
            name="ClientAlias",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("name", vault.fields.EncryptedCharField(max_length=200, verbose_name="name")),
                ("name_index", vault.fields.BlindIndexField(kind="name", of="name", verbose_name="name index")),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="aliases",
                        to="matters.client",
                        verbose_name="client",
                    ),
                ),
            ],
            options={"verbose_name": "client alias", "verbose_name_plural": "client aliases"},
        ),
        migrations.RunPython(restore_aliases, migrations.RunPython.noop),
    ]
