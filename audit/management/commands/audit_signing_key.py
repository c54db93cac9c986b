from __future__ import annotations

from django.core.management.base import BaseCommand

from audit import signing


class Command(BaseCommand):
    help = "Print a new Ed25519 key for AUDIT_SIGNING_KEY (and, with --public, the current key's public half)."

    def add_arguments(self, parser):
        parser.add_argument("--public", action="store_true", help="Print the public key of AUDIT_SIGNING_KEY instead.")

    def handle(self, *args, public: bool = False, **options):
        if public:
            key = signing.signing_key().public_key()
            self.stdout.write(f"{signing.public_key_text(key)}  (key id {signing.key_id(key)})")
        else:
            self.stdout.write(signing.new_private_key_text())
