from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from matters.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Load the demonstration firm (idempotent) and print its accounts and authenticator secrets."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Load the data without printing the accounts.")
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="Where the demo server will answer.")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError(
                "seed_demo creates accounts with a published password: run it only with CUSTOS_ENV=demo."
            )
        accounts = seed_demo()
        if options["quiet"]:
            return
        out = self.stdout.write
        out(self.style.SUCCESS("Custos demo firm is ready."))
        out("")
        out(f"Sign in at {options['url']} — every demo account's password is: {DEMO_PASSWORD}")
        out("Then enter the 6-digit code for the account: add its secret below to an authenticator app,")
        out("or print the current code with:  .venv/bin/python manage.py demo_code <username>")
        out("")
        out(f"{'username':<10} {'roles':<28} {'authenticator secret (TOTP, base32)':<42} who")
        for account in accounts:
            secret = account.secret or "(none yet: enrols at first sign-in)"
            out(f"{account.username:<10} {account.roles:<28} {secret:<42} {account.note}")
        out("")
