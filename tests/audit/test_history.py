"""Model change history: every tracked change is logged, and no client plaintext reaches a log row.

The plaintext checks read ``auditlog_logentry`` with a cursor, every column,
so nothing the ORM or a display helper might rewrite hides a leak. Each secret
is checked whole and word by word, so a mask that keeps half the value (auditlog's
default) is caught too.
"""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpResponse
from django.urls import path, reverse

from access.models import GrantLevel
from access.services import grant_matter_access, revoke_matter_access
from audit.history import MASK, mask, track_models, unmasked_sensitive_fields
from lawfirm.sensitive import SENSITIVE_FIELDS, TRACKED_MODELS
from matters.models import Client, Document, Matter, MatterStatus, Party
from tests.factories import ClientFactory, MatterFactory, PartyFactory, make_document

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

CLIENT_NAME = "Zhang Wei Quokkaworks Holdings"
CLIENT_RENAMED = "Quagga Renamed Holdings 张伟集团"
MATTER_TITLE = "Zhang Wei secret merger Pangolin"
MATTER_RETITLED = "Tamarin retitled acquisition"
MATTER_DESCRIPTION = "Acquisition of Marmoset Labs by 张伟控股"
PARTY_NAME = "Wombatia Trading 李娜"
PARTY_RENAMED = "Axolotl Shipping"
DOCUMENT_TITLE = "Heron board minutes"
DOCUMENT_RETITLED = "Jackdaw side letter"
DOCUMENT_NAME = "Ibex valuation.pdf"
DOCUMENT_REPLACEMENT_NAME = "Kinkajou escrow terms.pdf"
GRANT_REASON = "covering the Narwhal disposal"
GRANT_NEW_REASON = "Lemming arbitration backlog"


def fragments(secret: str) -> list[str]:
    """The secret and each word of it that could not turn up in a log row by chance."""
    return [secret, *re.findall(r"[^\W\d_]{4,}|[\u4e00-\u9fff]{2,}", secret)]


def raw_log_text() -> str:
    """Every column of every auditlog row, as text (JSON also decoded, so escaped CJK is read too)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM auditlog_logentry")
        rows = cursor.fetchall()
    parts = []
    for row in rows:
        for value in row:
            if isinstance(value, dict | list):
                parts.append(json.dumps(value, ensure_ascii=False))
                continue
            parts.append(str(value))
            if isinstance(value, str):
                with contextlib.suppress(ValueError):
                    parts.append(json.dumps(json.loads(value), ensure_ascii=False))
    return "\n".join(parts)


def assert_no_plaintext(*secrets: str) -> None:
    text = raw_log_text().casefold()
    leaked = [fragment for secret in secrets for fragment in fragments(secret) if fragment.casefold() in text]
    assert leaked == []


def entries(model, action) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_model(model).filter(action=action).order_by("timestamp", "pk"))


def assert_masked(entry: LogEntry, *fields: str) -> None:
    for name in fields:
        assert entry.changes[name] == [MASK, MASK], name


# --- the declaration ------------------------------------------------------------------------


def test_every_sensitive_field_exists_on_its_model():
    """A rename must fail here rather than leave the new name unmasked (and unencrypted)."""
    for label, names in SENSITIVE_FIELDS.items():
        model = apps.get_model(label)
        for name in names:
            model._meta.get_field(name)  # raises FieldDoesNotExist


def test_every_excluded_or_many_to_many_field_of_the_history_exists():
    for label, history in TRACKED_MODELS.items():
        model = apps.get_model(label)
        for name in (*history.exclude, *history.m2m):
            model._meta.get_field(name)


def test_every_model_with_a_sensitive_field_keeps_a_masked_history():
    assert set(SENSITIVE_FIELDS) <= set(TRACKED_MODELS)
    for label in TRACKED_MODELS:
        assert auditlog.contains(apps.get_model(label)), label
    assert unmasked_sensitive_fields() == []


def test_a_registration_that_would_log_a_sensitive_field_in_clear_is_named(settings):
    settings.AUDITLOG_MASK_CALLABLE = None  # auditlog's default then keeps half of each value
    try:
        auditlog.register(Party)  # as AUDITLOG_INCLUDE_ALL_MODELS would: no mask
        auditlog.register(Matter, mask_fields=["title", "description"])  # no callable: the default
        # Encrypted fields and their blind indexes declare themselves sensitive: notes and the
        # party's ID number and indexes are named although no list in lawfirm/sensitive.py mentions them.
        party = [
            "matters.party.id_number",
            "matters.party.id_number_index",
            "matters.party.name",
            "matters.party.name_index",
        ]
        assert sorted(unmasked_sensitive_fields()) == [
            "matters.matter.description",
            "matters.matter.notes",
            "matters.matter.title",
            *party,
        ]
        settings.AUDITLOG_MASK_CALLABLE = "audit.history.mask"
        assert sorted(unmasked_sensitive_fields()) == ["matters.matter.notes", *party]
    finally:
        track_models()
    assert unmasked_sensitive_fields() == []


def test_the_mask_keeps_neither_length_nor_any_character():
    assert mask("Zhang Wei secret merger") == mask("") == mask("x") == MASK
    assert not set(MASK) & set("Zhang Wei secret merger")


# --- create, update, delete ---------------------------------------------------------------


@pytest.mark.django_db
def test_client_matter_and_party_histories_carry_no_plaintext():
    client = ClientFactory(name=CLIENT_NAME)
    matter = MatterFactory(client=client, title=MATTER_TITLE, description=MATTER_DESCRIPTION)
    party = PartyFactory(matter=matter, name=PARTY_NAME)

    client.name = CLIENT_RENAMED
    client.save()
    matter.title = MATTER_RETITLED
    matter.save(update_fields=["title"])
    party.name = PARTY_RENAMED
    party.save()

    party.delete()
    matter.delete()
    client.delete()

    assert_no_plaintext(
        CLIENT_NAME, CLIENT_RENAMED, MATTER_TITLE, MATTER_RETITLED, MATTER_DESCRIPTION, PARTY_NAME, PARTY_RENAMED
    )
    # The history is there, field by field, with the values masked.
    for model, fields in ((Client, ["name"]), (Matter, ["title", "description"]), (Party, ["name"])):
        (created,) = entries(model, LogEntry.Action.CREATE)
        (deleted,) = entries(model, LogEntry.Action.DELETE)
        assert_masked(created, *fields)
        assert_masked(deleted, *fields)
    assert_masked(entries(Client, LogEntry.Action.UPDATE)[0], "name")
    assert_masked(entries(Matter, LogEntry.Action.UPDATE)[0], "title")
    assert_masked(entries(Party, LogEntry.Action.UPDATE)[0], "name")
    # Labels stay readable: a client's code and a matter's number are not client secrets.
    assert entries(Client, LogEntry.Action.CREATE)[0].object_repr == client.code
    assert entries(Matter, LogEntry.Action.CREATE)[0].object_repr == matter.number


@pytest.mark.django_db
def test_document_history_carries_neither_title_nor_file_name():
    matter = MatterFactory()
    document = make_document(matter, title=DOCUMENT_TITLE, name=DOCUMENT_NAME, content=PDF)

    document.title = DOCUMENT_RETITLED
    document.save(update_fields=["title"])
    # Before the row is saved the file field holds the upload under its own name,
    # which is what the pre-save diff sees.
    document.file = SimpleUploadedFile(DOCUMENT_REPLACEMENT_NAME, PDF)
    document.original_name = DOCUMENT_REPLACEMENT_NAME
    document.save()
    document_id = document.pk
    document.delete()

    assert_no_plaintext(DOCUMENT_TITLE, DOCUMENT_RETITLED, DOCUMENT_NAME, DOCUMENT_REPLACEMENT_NAME)
    (created,) = entries(Document, LogEntry.Action.CREATE)
    assert_masked(created, "title", "original_name", "file")
    assert created.changes["content_type"] == ["None", "application/pdf"]
    retitled, replaced = entries(Document, LogEntry.Action.UPDATE)
    assert_masked(retitled, "title")
    assert_masked(replaced, "file", "original_name")
    (deleted,) = entries(Document, LogEntry.Action.DELETE)
    assert_masked(deleted, "title", "original_name", "file")
    assert deleted.object_repr == str(document_id)


@pytest.mark.django_db
def test_grant_reason_is_masked_and_the_level_kept(alice, bob):
    matter = MatterFactory()
    granted = grant_matter_access(actor=alice, matter=matter, level=GrantLevel.VIEW, reason=GRANT_REASON, user=bob)
    grant_matter_access(actor=alice, matter=matter, level=GrantLevel.EDIT, reason=GRANT_NEW_REASON, user=bob)
    group = Group.objects.create(name="Disputes team")
    group_grant = grant_matter_access(
        actor=alice, matter=matter, level=GrantLevel.VIEW, reason=GRANT_REASON, group=group
    )
    revoke_matter_access(actor=alice, grant=granted)
    revoke_matter_access(actor=alice, grant=group_grant)

    assert_no_plaintext(GRANT_REASON, GRANT_NEW_REASON)
    for grant_model in (type(granted), type(group_grant)):
        assert_masked(entries(grant_model, LogEntry.Action.CREATE)[0], "reason")
        assert_masked(entries(grant_model, LogEntry.Action.DELETE)[0], "reason")
    (regranted,) = entries(type(granted), LogEntry.Action.UPDATE)
    assert_masked(regranted, "reason")
    assert "permission" in regranted.changes  # the level changed: recorded (as the permission's id)


@pytest.mark.django_db
def test_a_person_history_keeps_role_changes_but_not_the_password_hash(alice):
    from access.models import User

    alice.set_password("another correct horse")
    alice.first_name = "Alicia"
    alice.save()
    alice.groups.add(Group.objects.create(name="Disputes team"))

    updates = entries(User, LogEntry.Action.UPDATE)
    assert any(entry.changes.get("first_name") == ["Alice", "Alicia"] for entry in updates)
    assert all("password" not in (entry.changes or {}) for entry in LogEntry.objects.get_for_model(User))
    assert updates[-1].changes["groups"] == {"type": "m2m", "operation": "add", "objects": ["Disputes team"]}


# --- through a request: the actor is named, non-sensitive values are in clear --------------------


def _close_matter(request, pk):
    """Stands in for a matter service behind a view (none changes status yet)."""
    matter = Matter.objects.get(pk=pk)
    matter.status = MatterStatus.CLOSED
    matter.title = MATTER_RETITLED
    matter.save()
    return HttpResponse("closed")


urlpatterns = [path("close/<uuid:pk>/", _close_matter, name="close_matter")]


@pytest.mark.django_db
def test_a_status_change_through_a_request_is_recorded_in_clear_with_its_actor(settings, matter, alice, login):
    settings.ROOT_URLCONF = __name__
    response = login(alice).post(reverse("close_matter", args=[matter.pk]))
    assert response.status_code == 200

    (closed,) = entries(Matter, LogEntry.Action.UPDATE)
    assert closed.actor == alice
    assert closed.changes["status"] == [MatterStatus.OPEN, MatterStatus.CLOSED]
    assert_masked(closed, "title")
    assert_no_plaintext(MATTER_RETITLED)


@pytest.mark.django_db
def test_an_upload_names_its_uploader_and_masks_what_the_client_wrote(matter, alice, login):
    response = login(alice).post(
        reverse("matters:document_upload", args=[matter.pk]),
        {
            "title": DOCUMENT_TITLE,
            "classification": matter.classification,
            "file": SimpleUploadedFile(DOCUMENT_NAME, PDF),
        },
    )
    assert response.status_code == 302

    (created,) = entries(Document, LogEntry.Action.CREATE)
    assert created.actor == alice
    assert created.changes["classification"] == ["None", str(matter.classification)]
    assert created.changes["size"] == ["None", str(len(PDF))]
    assert_masked(created, "title", "original_name", "file")
    assert_no_plaintext(DOCUMENT_TITLE, DOCUMENT_NAME)
