"""System checks for the audit trail's signing key."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def signing_key_check(app_configs, **kwargs):
    if not settings.AUDIT_SIGNING_KEY:
        return [
            Error(
                "AUDIT_SIGNING_KEY is not set: audit checkpoints cannot be signed.",
                hint="Generate one with `manage.py audit_signing_key` and keep it outside the database.",
                id="audit.E001",
            )
        ]
    from audit import signing

    try:
        signing.signing_key()
        signing.trusted_public_keys()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="audit.E002")]
    return []


@register()
def sensitive_fields_masked_check(app_configs, **kwargs):
    """A sensitive field that some history registration would log in clear is an error."""
    from audit.history import unmasked_sensitive_fields

    return [
        Error(f"{label} is declared sensitive but its change history is not masked.", id="audit.E003")
        for label in unmasked_sensitive_fields()
    ]
