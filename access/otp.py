"""Second-factor devices: enrolment of an authenticator app and backup codes (django-otp)."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import User

AUTHENTICATOR = "authenticator"
BACKUP_CODES = "backup codes"


def has_confirmed_device(user: User) -> bool:
    return any(True for _device in devices_for_user(user, confirmed=True))


_PENDING = "custos_pending_authenticator"


def pending_authenticator(request) -> TOTPDevice:
    """The authenticator being enrolled in this session: the same on reload, new in every session.

    A secret shown in one session (say, to someone who had the password) is
    never the one the person confirms in another.
    """
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False, pk=request.session.get(_PENDING) or 0).first()
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)
        request.session[_PENDING] = device.pk
    return device


def base32_secret(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG (drawn locally: no image service sees the secret)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    return svg[svg.index("<svg") :]  # drop the XML declaration: it is inlined in HTML


@transaction.atomic
def replace_backup_codes(user: User) -> list[str]:
    """Issue a fresh set of one-time backup codes; the old ones stop working."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name=BACKUP_CODES, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def remaining_backup_codes(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def confirm_authenticator(user: User, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the enrolment if ``token`` matches; return the new backup codes, or None."""
    if not device.verify_token(token):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return replace_backup_codes(user)
