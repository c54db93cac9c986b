import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Demo only: print the current authenticator code of a demo account."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("demo_code works only in the demo (CUSTOS_ENV=demo).")
        device = TOTPDevice.objects.filter(user__username=options["username"], confirmed=True).first()
        if device is None:
            raise CommandError("No confirmed authenticator for that account.")
        now = int(time.time())
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
        remaining = device.step - (now - device.t0) % device.step
        self.stdout.write(f"{code:0{device.digits}d}  (valid for about {remaining} more seconds)")
