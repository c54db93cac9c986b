"""Fixtures shared by the whole suite: the named personas and signed-in clients.

The personas (used everywhere, so a test reads like a story):
- Alice, partner, manages ``matter`` (the matter under test);
- Bob, associate, view-only grant on ``matter``;
- Charlie, a lawyer with no grant on ``matter`` (the walled-off colleague);
- Dana, the security officer, no grant — must not see contents;
- Adam, administrator (staff), no grant;
- Root, a Django superuser, no grant.
Each has a confirmed authenticator; ``signed_in(client, user)`` gives a client
whose session has passed both factors.
"""

from __future__ import annotations

import os
import time

import pytest
from django_otp import DEVICE_ID_SESSION_KEY

from access.models import GrantLevel, Role
from access.sessions import AUTH_AT, SEEN_AT
from tests.factories import MatterFactory, UserFactory, enroll, grant

REQUIRED_MARKERS = ("e2e", "postgres", "celery_worker")


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    for item in items:
        if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (CUSTOS_REQUIRED_SUITES=e2e,postgres,…) a skipped required suite is a failure."""
    outcome = yield
    report = outcome.get_result()
    required = {name.strip() for name in os.environ.get("CUSTOS_REQUIRED_SUITES", "").split(",") if name.strip()}
    if report.skipped and required:
        markers = {m for m in REQUIRED_MARKERS if item.get_closest_marker(m)} & required
        if markers:
            report.outcome = "failed"
            reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            report.longrepr = f"required suite {', '.join(sorted(markers))} was skipped: {reason}"


@pytest.fixture(scope="session", autouse=True)
def _audit_tables_flushable():
    """Transactional tests end by truncating every table, which the audit tables'
    append-only triggers refuse (as they should). Only for that flush, the test
    database's superuser switches triggers off, as an operator restoring a backup would."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with self.connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            original(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = origin")

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


@pytest.fixture(autouse=True)
def _documents_in_tmp(settings, tmp_path, monkeypatch):
    """Every test writes documents into its own folder.

    The file field resolved its storage when models loaded, so it is pointed at
    the overridden one too.
    """
    from django.core.files.storage import storages

    from matters.models import Document

    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {**settings.STORAGES["documents"], "OPTIONS": {"location": tmp_path / "documents"}},
    }
    monkeypatch.setattr(Document._meta.get_field("file"), "storage", storages["documents"])
    settings.STORAGES = {
        **settings.STORAGES,
        "training": {**settings.STORAGES["training"], "OPTIONS": {"location": tmp_path / "training"}},
    }
    from training.models import CourseAttachment

    monkeypatch.setattr(CourseAttachment._meta.get_field("file"), "storage", storages["training"])


def _persona(username: str, first: str, roles=(), **extra):
    user = UserFactory(username=username, first_name=first, last_name="Test", roles=roles, **extra)
    enroll(user)
    return user


@pytest.fixture
def alice(db):
    return _persona("alice", "Alice", (Role.PARTNER, Role.LAWYER))


@pytest.fixture
def bob(db):
    return _persona("bob", "Bob", (Role.LAWYER,))


@pytest.fixture
def charlie(db):
    return _persona("charlie", "Charlie", (Role.LAWYER,))


@pytest.fixture
def dana(db):
    return _persona("dana", "Dana", (Role.SECURITY_OFFICER,))


@pytest.fixture
def connie(db):
    """A partner who is also the conflicts partner: clears conflict checks, erects walls; holds no grant."""
    return _persona("connie", "Connie", (Role.CONFLICTS, Role.PARTNER))


@pytest.fixture
def harriet(db):
    """HR: runs the training programme; holds no grant."""
    return _persona("harriet", "Harriet", (Role.HR,))


@pytest.fixture
def adam(db):
    return _persona("adam", "Adam", (Role.ADMINISTRATOR,), is_staff=True)


@pytest.fixture
def root(db):
    return _persona("root", "Root", (), is_staff=True, is_superuser=True)


@pytest.fixture
def matter(alice, bob):
    """Alice's matter: Alice manages it, Bob may view it."""
    matter = MatterFactory(responsible_partner=alice)
    grant(alice, matter, GrantLevel.MANAGE)
    grant(bob, matter, GrantLevel.VIEW)
    return matter


def signed_in(client, user):
    """Make ``client`` a session that passed password and second factor as ``user``."""
    client.force_login(user)
    device = user.totpdevice_set.filter(confirmed=True).first() or enroll(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[AUTH_AT] = session[SEEN_AT] = int(time.time())
    session.save()
    return client


@pytest.fixture
def login(client):
    """``login(user)`` signs the test client in with both factors and returns it."""
    return lambda user: signed_in(client, user)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_between_tests():
    """A request in Chinese leaves the thread's language active; each test starts in English."""
    from django.utils import translation

    yield
    translation.activate("en")
