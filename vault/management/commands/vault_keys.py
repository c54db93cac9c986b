from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from vault.keys import new_blind_index_key_text, new_kek_text


class Command(BaseCommand):
    help = (
        "Print fresh keys for a new installation (VAULT_KEKS and VAULT_BLIND_INDEX_KEY lines for .env), "
        "or, with --kek-version N, only a new KEK entry of version N to append to VAULT_KEKS. "
        "Reads no setting and changes nothing; see docs/keys.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--kek-version",
            type=int,
            metavar="N",
            help="Print only a new KEK entry 'N:<base64>' (one more than the highest version in VAULT_KEKS).",
        )

    def handle(self, *args, kek_version: int | None = None, **options):
        if kek_version is not None:
            if kek_version < 1:
                raise CommandError("--kek-version must be 1 or more.")
            self.stdout.write(new_kek_text(kek_version))
            self.stderr.write(
                f"Append it to VAULT_KEKS after a comma (…,{kek_version}:…), deploy it to every process, "
                "then run `manage.py rotate_kek`. Keep the old versions until the rewrap has retired them."
            )
            return
        self.stdout.write(f"VAULT_KEKS={new_kek_text(1)}")
        self.stdout.write(f"VAULT_BLIND_INDEX_KEY={new_blind_index_key_text()}")
        self.stderr.write(
            "Keep both apart from the database and its backups. Losing VAULT_KEKS loses every client's data; "
            "changing VAULT_BLIND_INDEX_KEY breaks search until every index is recomputed."
        )
