"""Encrypt, in place, client data stored before the vault existed.

The same service as ``manage.py encrypt_plaintext``, which can also be run by
hand (for instance after restoring an old backup). Not atomic: each batch
commits on its own, so an interrupted run resumes where it stopped, and values
already encrypted are skipped.

It uses the live models, not the migration's historical ones: encryption needs
each model's key owner and field classes as they are now. On a new database
there is nothing to encrypt and it does nothing.
"""

from django.db import migrations


def encrypt_existing(apps, schema_editor):
    Client = apps.get_model("matters", "Client")
    Document = apps.get_model("matters", "Document")
    if not Client.objects.exists() and not Document.objects.exists():
        return
    from vault.services import encrypt_plaintext

    encrypt_plaintext()


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("matters", "0002_encrypted_fields"),
    ]

    operations = [migrations.RunPython(encrypt_existing, migrations.RunPython.noop)]
