"""Start-up invariants of a production deployment, as Django system checks.

Every check here is silent unless ``CUSTOS_ENV=production``: the demo and the
test suite are allowed their SQLite, in-process jobs and generated key.

Debug pages in production (custos.E003) fail every command that checks. A
weak or missing key (E001) and missing allowed hosts (E002) are deploy
checks, like Django's own: commands that need neither, such as
``makemigrations``, still run on a bare checkout. They cannot slip through
to a server: ``check --deploy`` fails — the compose file's ``migrate`` service
runs it first and starts nothing if it fails — gunicorn refuses to boot without
a key (wsgi.py), and Django refuses every request without allowed hosts. The
warnings are deployment advice, also under ``check --deploy``.

Anchor: healthchecks ``hc/api/apps.py`` (settings checks with ids).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# The same thresholds as Django's own security.W009, but an error here: the key
# signs sessions, password-reset links and OTP state.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5
_GENERATE_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(64))'"


def _production() -> bool:
    return settings.CUSTOS_ENV == "production"


def _demo_secret_key() -> str | None:
    """The key ``make run`` generated into var/, if this machine has one."""
    path = Path(settings.VAR_DIR) / "secret_key"
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _secret_key_problem(key: str) -> str | None:
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"has fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS} distinct characters"
    if key.startswith("django-insecure-"):
        return "is a key Django generated for development"
    if key == _demo_secret_key():
        return "is the demo's key (var/secret_key)"
    return None


# A deploy check: commands that need no secret (makemigrations, collectstatic) run
# without one, as Django intends; a server refuses to start without it (wsgi.py).
@checks.register(checks.Tags.security, deploy=True)
def check_secret_key(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not _production():
        return []
    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:
        key = ""
    problem = "is not set" if not key else _secret_key_problem(key)
    if problem is None:
        return []
    return [
        checks.Error(
            f"SECRET_KEY {problem}.",
            hint=f"Set SECRET_KEY (or SECRET_KEY_FILE) to a fresh random value, e.g. the output of {_GENERATE_KEY}.",
            id="custos.E001",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_allowed_hosts(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not _production() or settings.ALLOWED_HOSTS:
        return []
    return [
        checks.Error(
            "ALLOWED_HOSTS is empty, so every request would be refused.",
            hint="Set ALLOWED_HOSTS to the host names people use, comma-separated (custos.example.com).",
            id="custos.E002",
        )
    ]


@checks.register(checks.Tags.security)
def check_debug(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not _production() or not settings.DEBUG:
        return []
    return [
        checks.Error(
            "DEBUG is on in production: error pages would show settings, queries and client data.",
            hint="Remove DEBUG from the environment or set DEBUG=false.",
            id="custos.E003",
        )
    ]


@checks.register("custos", deploy=True)
def check_database(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not _production() or "sqlite" not in settings.DATABASES["default"]["ENGINE"]:
        return []
    return [
        checks.Warning(
            "The database is SQLite, which is for the demo; production runs on PostgreSQL.",
            hint="Set DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/NAME.",
            id="custos.W001",
        )
    ]


@checks.register("custos", deploy=True)
def check_job_queue(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not _production() or settings.REDIS_URL:
        return []
    return [
        checks.Warning(
            "REDIS_URL is not set, so jobs run in-process inside web requests and "
            "periodic jobs (such as ending departed users' access) never run.",
            hint="Set REDIS_URL=redis://HOST:6379/0 and run a Celery worker and beat.",
            id="custos.W002",
        )
    ]


def _writable_directory(path: Path) -> bool:
    """Whether files can be stored under ``path``, creating it if it is missing."""
    while not path.exists():
        if path.parent == path:
            return False
        path = path.parent
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


@checks.register("custos", deploy=True)
def check_document_root(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not _production() or _writable_directory(Path(settings.DOCUMENT_ROOT)):
        return []
    return [
        checks.Warning(
            f"DOCUMENT_ROOT ({settings.DOCUMENT_ROOT}) is not a directory this process can write to, "
            "so document uploads would fail.",
            hint="Mount the documents volume there, owned by the user Custos runs as, or point DOCUMENT_ROOT at one.",
            id="custos.W003",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_proxy_client_address(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not _production() or not getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return []
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", None) or getattr(settings, "AXES_IPWARE_PROXY_COUNT", None)
    if proxies:
        return []
    return [
        checks.Warning(
            "BEHIND_TLS_PROXY is on but TRUSTED_PROXY_COUNT is 0: every sign-in appears to come from "
            "the proxy's address, so login throttling cannot tell one client from another.",
            hint="Set TRUSTED_PROXY_COUNT to the number of proxies in front of Custos that append X-Forwarded-For.",
            id="custos.W004",
        )
    ]
