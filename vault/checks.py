"""System checks for the vault's keys.

Missing keys are a deploy check (vault.E001), like the secret key: commands that
need no key (makemigrations) still run on a bare checkout, while ``check
--deploy`` fails and the web entry point refuses to boot (lawfirm/wsgi.py).
A malformed key is an error for every command (vault.E002): nothing should run
with a key that cannot be what the operator meant.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

_HINT = "Generate keys with `manage.py vault_keys`; see docs/keys.md."


@register(Tags.security, deploy=True)
def keys_present_check(app_configs, **kwargs):
    return [
        Error(f"{name} is not set: client data cannot be encrypted.", hint=_HINT, id="vault.E001")
        for name in ("VAULT_KEKS", "VAULT_BLIND_INDEX_KEY")
        if not getattr(settings, name)
    ]


@register(Tags.security)
def keys_well_formed_check(app_configs, **kwargs):
    from vault.keys import decode_key, parse_keks

    errors = []
    if settings.VAULT_KEKS:
        try:
            parse_keks(settings.VAULT_KEKS)
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), hint=_HINT, id="vault.E002"))
    if settings.VAULT_BLIND_INDEX_KEY:
        try:
            decode_key(settings.VAULT_BLIND_INDEX_KEY, "VAULT_BLIND_INDEX_KEY")
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), hint=_HINT, id="vault.E002"))
    return errors
