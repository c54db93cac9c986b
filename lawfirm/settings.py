"""Custos settings: one module, driven by the environment.

``CUSTOS_ENV`` selects the profile: ``production`` (the default, strict: every
secret must be supplied), ``demo`` (``make run``: SQLite, eager jobs, a secret
key generated into ``var/``) or ``test`` (the test suite). Every other knob is
an environment variable read through :mod:`lawfirm.env`; ``.env.example``
lists them all.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from lawfirm.env import env_bool, env_choice, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
CUSTOS_ENV = env_choice("CUSTOS_ENV", ("production", "demo", "test"), "production")
PRODUCTION = CUSTOS_ENV == "production"
DEMO = CUSTOS_ENV == "demo"
TESTING = CUSTOS_ENV == "test"
VAR_DIR = Path(env_str("CUSTOS_VAR_DIR", str(BASE_DIR / "var")))


def _secret_key() -> str:
    key = env_secret("SECRET_KEY")
    if key:
        return key
    if TESTING:
        return secrets.token_urlsafe(50)
    if DEMO:
        # The demo keeps its generated key in var/ so sessions survive restarts.
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path = VAR_DIR / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()
    # Production without a key: left empty, so Django refuses wherever the key is
    # used (its own lazy check, made so that commands needing no secret, such as
    # makemigrations, still run). The web entry point refuses to start at all
    # (lawfirm/wsgi.py) and `check --deploy` reports custos.E001.
    return ""


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "lawfirm.apps.CustosAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "guardian",
    "lawfirm.apps.SignInLockoutsConfig",  # django-axes
    "csp",
    "auditlog",
    "audit",
    "vault",
    "access",
    "matters",
    "training",
    "jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside every view's transaction: the access events a request recorded are
    # written when it ends, whether the view committed or rolled back.
    "audit.middleware.AuditMiddleware",
    # Before anything parses a request body (the CSRF check does).
    "matters.middleware.OversizedUploadMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "auditlog.middleware.AuditlogMiddleware",  # names the actor in model change history
    "access.middleware.NoStoreForSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "access.middleware.SessionLimitsMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "access.middleware.RequireSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # django-axes must come last: it turns a locked-out login into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lawfirm.urls"
WSGI_APPLICATION = "lawfirm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "access.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'custos.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60 if PRODUCTION else 0, minimum=0),
        conn_health_checks=True,
    )
}
# A view either completes or changes nothing; audit events of reads and denials
# are kept apart from this transaction (audit.middleware).
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# Lets concurrent test runs on one machine keep apart (e.g. CI and a developer).
_TEST_DB_SUFFIX = env_str("TEST_DB_SUFFIX")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if not DATABASE_URL.startswith("sqlite:///:memory:"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # A file, not memory: the Celery worker started by the integration test must
    # see the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-custos{_TEST_DB_SUFFIX}.sqlite3")}
elif _TEST_DB_SUFFIX:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}{_TEST_DB_SUFFIX}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication, second factor and sessions -----------------------------------
AUTH_USER_MODEL = "access.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "access:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "access:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions live in the database so a Redis outage never signs anyone out.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("SESSION_IDLE_MINUTES", 30, minimum=1))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env_int("SESSION_ABSOLUTE_HOURS", 12, minimum=1))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Custos")
BACKUP_CODE_COUNT = 10

# django-axes: 5 failures per username and address, then a 15-minute cool-off
# (the library default is 3 failures and a permanent lock, which lets anyone
# lock anyone out).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "access.views.locked_out"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_VERBOSE = False
# Masked in the attempt records administrators see: a "next" URL can carry a search for a client's name.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "next", "q"]
# Behind N reverse proxies that append to X-Forwarded-For, the client is the Nth entry from the right.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "access.network.throttling_address"

# guardian's ObjectPermissionBackend is deliberately not installed: user.has_perm(obj)
# would be a second way to answer permission questions, blind to expiry and to the
# rules in access.policy, which is the only one.
SILENCED_SYSTEM_CHECKS = [
    "guardian.W001",
    # HSTS preload commits the whole domain to HTTPS for browsers' lifetimes: the
    # operator's choice (SECURE_HSTS_PRELOAD), not a default.
    "security.W021",
]
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous users see nothing.

# --- Security headers ---------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "style-src": [SELF],
        "script-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# --- Internationalisation ----------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files and documents ------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"  # built into the image; not moved by CUSTOS_VAR_DIR
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production WhiteNoise serves straight from the source folders, so the
# demo and the browser tests need no collectstatic step.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
DOCUMENT_ROOT = Path(env_str("DOCUMENT_ROOT", str(VAR_DIR / "documents")))
# Course material files (slides, handouts): firm content, kept beside the documents.
TRAINING_ROOT = Path(env_str("TRAINING_ROOT", str(VAR_DIR / "training")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    # Client documents: never under a public URL; served only by the download view.
    "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DOCUMENT_ROOT, "base_url": None, "file_permissions_mode": 0o600},
    },
    # Course material: not client data, but not public either; served by the training app's view.
    "training": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": TRAINING_ROOT, "base_url": None, "file_permissions_mode": 0o600},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
DOCUMENT_MAX_UPLOAD_BYTES = env_int("DOCUMENT_MAX_UPLOAD_MB", 25, minimum=1) * 1024 * 1024
# Larger uploads spill to a temporary file instead of memory, in clear until the request
# ends (docs/keys.md): put UPLOAD_TEMP_DIR on a private tmpfs.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = env_str("UPLOAD_TEMP_DIR") or None
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

MATTERS_PAGE_SIZE = env_int("MATTERS_PAGE_SIZE", 25, minimum=5)

# --- Access requests and grants ----------------------------------------------------------
# How long a requested grant may run, in days, by the matter's classification (its value).
ACCESS_MAX_DAYS = {
    10: env_int("ACCESS_MAX_DAYS_PUBLIC", 365, minimum=1),
    20: env_int("ACCESS_MAX_DAYS_INTERNAL", 180, minimum=1),
    30: env_int("ACCESS_MAX_DAYS_CONFIDENTIAL", 90, minimum=1),
    40: env_int("ACCESS_MAX_DAYS_HIGHLY_CONFIDENTIAL", 30, minimum=1),
}
ACCESS_DEFAULT_DAYS = env_int("ACCESS_DEFAULT_DAYS", 30, minimum=1)
# Holders are told this many days before a grant ends, and may ask for a renewal.
ACCESS_EXPIRY_WARNING_DAYS = env_int("ACCESS_EXPIRY_WARNING_DAYS", 7, minimum=1)
# A request nobody decides within this many days lapses (the requester is told).
ACCESS_REQUEST_LAPSE_DAYS = env_int("ACCESS_REQUEST_LAPSE_DAYS", 14, minimum=1)
# Conditions besides a grant for matters of a high classification (access.policy.matter_gates).
ACCESS_MATTER_GATES = ["training.compliance.matter_gate"]

# --- Ethical walls (access.wall_services) -------------------------------------------------------
# Whether a new wall, unless its form says otherwise, keeps the people an inclusionary wall lets in
# out of its matters until they have acknowledged its memo (everyone named is sent the memo anyway).
WALLS_REQUIRE_ACKNOWLEDGEMENT = env_bool("WALLS_REQUIRE_ACKNOWLEDGEMENT", False)
# --- end of Ethical walls

# --- Access reviews (access.reviews) ----------------------------------------------------------
# Days the responsible partners have to confirm or revoke the grants of a recertification campaign.
ACCESS_REVIEW_DAYS = env_int("ACCESS_REVIEW_DAYS", 14, minimum=1)
# A person's grant not used (no view or download of the matter) for this many days is proposed for removal.
STALE_ACCESS_DAYS = env_int("STALE_ACCESS_DAYS", 90, minimum=1)
# Whether the daily housekeeping removes such grants itself (otherwise the security officer decides).
STALE_ACCESS_REMOVE = env_bool("STALE_ACCESS_REMOVE", False)
# --- end of Access reviews

# --- Emergency access (access.break_glass) ------------------------------------------------------
# How long emergency ("break-glass") access to a matter lasts, in hours: a view grant that ends on its own.
BREAK_GLASS_HOURS = env_int("BREAK_GLASS_HOURS", 4, minimum=1)
# Whether a highly confidential matter may be opened in an emergency (refused unless the firm allows it).
BREAK_GLASS_ALLOW_HIGHLY_CONFIDENTIAL = env_bool("BREAK_GLASS_ALLOW_HIGHLY_CONFIDENTIAL", False)
# --- end of Emergency access

# --- Training, agreements and policies -----------------------------------------------------
# A person is "due soon" when something they owe falls due (or a pass expires) within this many days.
TRAINING_DUE_SOON_DAYS = env_int("TRAINING_DUE_SOON_DAYS", 14, minimum=1)
# New staff must finish the onboarding bundle (courses, agreement, policy) within this many days.
TRAINING_ONBOARDING_DAYS = env_int("TRAINING_ONBOARDING_DAYS", 14, minimum=1)
# A recurring course is assigned again this many days before the pass expires.
TRAINING_RECURRENCE_LEAD_DAYS = env_int("TRAINING_RECURRENCE_LEAD_DAYS", 30, minimum=1)
# Days given to people who must take a course because of their role, department or access.
TRAINING_REQUIRED_DAYS = env_int("TRAINING_REQUIRED_DAYS", 30, minimum=1)
# Reminders go this many days before the due date (and on the day).
TRAINING_REMINDER_DAYS = (14, 3, 0)
TRAINING_ATTACHMENT_MAX_BYTES = env_int("TRAINING_ATTACHMENT_MAX_MB", 20, minimum=1) * 1024 * 1024


# --- Audit trail ----------------------------------------------------------------------
def _audit_signing_key() -> str:
    key = env_secret("AUDIT_SIGNING_KEY")
    if key or PRODUCTION:
        return key  # production without one: audit.E001 under check --deploy
    from audit.signing import new_private_key_text

    if TESTING:
        return new_private_key_text()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "audit_signing_key"
    if not path.exists():
        path.write_text(new_private_key_text(), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


AUDIT_SIGNING_KEY = _audit_signing_key()
# Public keys (base64) of retired signing keys, so older checkpoints still verify.
AUDIT_TRUSTED_PUBLIC_KEYS = env_list("AUDIT_TRUSTED_PUBLIC_KEYS")
AUDIT_CHECKPOINT_MINUTES = env_int("AUDIT_CHECKPOINT_MINUTES", 15, minimum=1)
AUDIT_SEQUENCER_SECONDS = env_int("AUDIT_SEQUENCER_SECONDS", 10, minimum=1)
AUDIT_GAP_GRACE_SECONDS = env_int("AUDIT_GAP_GRACE_SECONDS", 30, minimum=1)
AUDIT_CLIENT_IP_CALLABLE = "access.network.client_ip"
# Who receives alerts by e-mail and may open the review screens: members of this group.
AUDIT_REVIEWER_GROUP = "security_officer"
# Optional SIEM feed: every event as one JSON line (docs/audit.md).
AUDIT_SIEM_FILE = env_str("AUDIT_SIEM_FILE")
AUDIT_SIEM_SYSLOG = env_str("AUDIT_SIEM_SYSLOG")  # "/dev/log" or "host:port" (UDP)


# --- Vault: encryption at rest (docs/keys.md) --------------------------------------------
def _generated_secret(name: str, make) -> str:
    """The demo keeps generated keys in var/; the test profile puts them in the environment
    so that the processes a test starts (a Celery worker) read the same data."""
    import os

    if TESTING:
        return os.environ.setdefault(name, make())
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / name.lower()
    if not path.exists():
        path.write_text(make(), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _vault_secret(name: str) -> str:
    value = env_secret(name)
    if value or PRODUCTION:
        return value  # production without one: vault.E001 refuses to start
    from vault.keys import new_blind_index_key_text, new_kek_text

    return _generated_secret(name, new_kek_text if name == "VAULT_KEKS" else new_blind_index_key_text)


# Key-encryption keys, versioned: "1:<base64 of 32 bytes>,2:<…>". The highest version wraps
# new data keys; older ones only unwrap until `manage.py rotate_kek` has rewrapped everything.
VAULT_KEKS = _vault_secret("VAULT_KEKS")
# The HMAC key of the blind indexes (exact-match search on encrypted names and ID numbers).
# Never rotated casually: every index would have to be recomputed (docs/keys.md).
VAULT_BLIND_INDEX_KEY = _vault_secret("VAULT_BLIND_INDEX_KEY")
VAULT_KEY_PROVIDER = env_str("VAULT_KEY_PROVIDER", "vault.keys.EnvironmentKeyProvider")
# Unwrapped data keys kept per process, and for how long before their state is read again
# (a key destroyed or rotated elsewhere stops being used here within this many seconds).
VAULT_KEY_CACHE_SIZE = env_int("VAULT_KEY_CACHE_SIZE", 1024, minimum=1)
VAULT_KEY_CACHE_SECONDS = env_int("VAULT_KEY_CACHE_SECONDS", 60, minimum=1)
# Documents are encrypted in segments of this many KiB (at most 1024).
VAULT_SEGMENT_KIB = env_int("VAULT_SEGMENT_KIB", 1024, minimum=4)
VAULT_ROTATION_BATCH = env_int("VAULT_ROTATION_BATCH", 500, minimum=1)

# Model change history (django-auditlog): only the models audit.history registers,
# sensitive fields (lawfirm/sensitive.py) masked whole — auditlog's own mask leaves half visible.
AUDITLOG_MASK_CALLABLE = "audit.history.mask"
AUDITLOG_INCLUDE_ALL_MODELS = False
# auditlog would take the first X-Forwarded-For entry, which clients forge; access
# events already record the address seen by the last trusted proxy.
AUDITLOG_DISABLE_REMOTE_ADDR = True
AUDITLOG_USE_FK_STRING_REPRESENTATION = False  # related objects logged by id, never by their str()

# --- Jobs (Celery + Redis) -----------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL  # the demo runs jobs in-process
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "end-departed-access": {
        "task": "jobs.tasks.run_periodic_job",
        "schedule": crontab(minute="*/15"),
        "args": ("access.end_departed_access",),
    },
    "clear-expired-sessions": {
        "task": "jobs.tasks.run_periodic_job",
        "schedule": crontab(minute=7),
        "args": ("access.clear_expired_sessions",),
    },
    "chain-audit-events": {
        "task": "jobs.tasks.run_periodic_job",
        "schedule": timedelta(seconds=AUDIT_SEQUENCER_SECONDS),
        "args": ("audit.chain_events",),
    },
    "sign-audit-checkpoint": {
        "task": "jobs.tasks.run_periodic_job",
        "schedule": timedelta(minutes=AUDIT_CHECKPOINT_MINUTES),
        "args": ("audit.sign_checkpoint",),
    },
    "detect-audit-alerts": {
        "task": "jobs.tasks.run_periodic_job",
        "schedule": crontab(),  # every minute
        "args": ("audit.detect",),
    },
    # Removes expired grants (they stopped authorizing at their end already), warns
    # holders of grants about to end, and lapses requests nobody decided.
    "expire-grants": {
        "task": "jobs.tasks.run_periodic_job",
        "schedule": crontab(hour=0, minute=10),
        "args": ("access.expire_grants",),
    },
    # Training: assigns joiners and recurrences, sends reminders, records lapses and escalates.
    "training-daily": {
        "task": "jobs.tasks.run_periodic_job",
        "schedule": crontab(hour=0, minute=20),
        "args": ("training.daily",),
    },
    # Picks up a KEK rewrap or a client key rotation that was interrupted, and finishes it.
    "resume-key-rotations": {
        "task": "jobs.tasks.run_periodic_job",
        "schedule": crontab(minute="*/5"),
        "args": ("vault.resume_rotations",),
    },
    # --- Access reviews: a recertification campaign each quarter; daily, closing the campaigns
    # that are due and (when STALE_ACCESS_REMOVE) removing access nobody used.
    "access-quarterly-review": {
        "task": "jobs.tasks.run_periodic_job",
        "schedule": crontab(minute=0, hour=1, day_of_month=1, month_of_year="1,4,7,10"),
        "args": ("access.quarterly_review",),
    },
    "access-review-housekeeping": {
        "task": "jobs.tasks.run_periodic_job",
        "schedule": crontab(hour=0, minute=40),
        "args": ("access.review_housekeeping",),
    },
}

# --- E-mail and logging ----------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# The address people reach Custos at, e.g. https://custos.example.com: makes the
# links in alert e-mails absolute (they are relative without it).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000" if DEMO else "").rstrip("/")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "custos@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL


def _siem_handlers() -> list[str]:
    return [name for name, on in (("siem_file", AUDIT_SIEM_FILE), ("siem_syslog", AUDIT_SIEM_SYSLOG)) if on] or [
        "siem_none"
    ]


def _syslog_address():
    if AUDIT_SIEM_SYSLOG.startswith("/"):
        return AUDIT_SIEM_SYSLOG
    host, _sep, port = AUDIT_SIEM_SYSLOG.rpartition(":")
    return (host, int(port)) if host and port.isdigit() else (AUDIT_SIEM_SYSLOG, 514)


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "bare": {"format": "%(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        # The SIEM feed: the message is the event's canonical JSON, alone on its line.
        "siem_none": {"class": "logging.NullHandler"},
        **(
            {
                "siem_file": {
                    "class": "logging.handlers.WatchedFileHandler",
                    "filename": AUDIT_SIEM_FILE,
                    "formatter": "bare",
                }
            }
            if AUDIT_SIEM_FILE
            else {}
        ),
        **(
            {
                "siem_syslog": {
                    "class": "logging.handlers.SysLogHandler",
                    "address": _syslog_address(),
                    "formatter": "bare",
                }
            }
            if AUDIT_SIEM_SYSLOG
            else {}
        ),
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Below INFO without a feed, so no record is even built for each event.
        "custos.audit.siem": {
            "handlers": _siem_handlers(),
            "level": "INFO" if AUDIT_SIEM_FILE or AUDIT_SIEM_SYSLOG else "WARNING",
            "propagate": False,
        },
        # Request bodies never reach a log; 4xx lines carry only the path.
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}
