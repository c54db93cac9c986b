"""Names are matched without their punctuation from now on (vault.blind): recompute the stored
indexes, as ``manage.py reindex_blind`` does, with the live models (decrypting needs them).

Not atomic: each batch commits on its own, so a run cut short resumes where it stopped. A
lateral hire's prior engagements keep only their indexes, not the names: one that matched a
client, alias or party before takes that record's new index, so a pending check still finds
what it found (``matters.conflicts.reindex_names``).
"""

from django.db import migrations


def reindex(apps, schema_editor):
    Client = apps.get_model("matters", "Client")
    if not Client.objects.exists():
        return
    from matters.conflicts import reindex_names

    reindex_names()


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("matters", "0005_walls_screen")]

    operations = [migrations.RunPython(reindex, migrations.RunPython.noop)]
