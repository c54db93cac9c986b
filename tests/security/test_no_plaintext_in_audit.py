"""A working day on a matter, then every raw row of every audit table is searched for its secrets.

The events (with their canonical bytes), the chain, the change history and the
SIEM feed must name matters by number and clients by code — never a title, a
client's or party's name, a document's title or file name, a grant's reason or
a search term. The day covers each way client information could leak in:
listing, searching, opening, uploading, downloading, granting, revoking, being
refused, and editing the records themselves.
"""

from __future__ import annotations

import logging

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from access.models import GrantLevel, MatterUserGrant
from access.services import grant_matter_access, revoke_matter_access
from audit.chain import chain_pending_events
from matters.models import PartyRole
from tests.conftest import signed_in
from tests.factories import PartyFactory, make_document

SECRETS = (
    "Operation Nightjar",  # matter title
    "Quiet acquisition of a rival",  # description
    "Corvid Capital",  # client name
    "Magpie Shipping",  # party
    "Heads of terms",  # document title
    "heads-of-terms.pdf",  # file name
    "partner asked for it",  # a grant's free-text reason
    "nightjar",  # a search term, in lower case
)
AUDIT_TABLES = ("audit_event", "audit_link", "auditlog_logentry", "audit_verification", "audit_alert")


def _raw_texts(table: str):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608  (our own table names)
        for row in cursor.fetchall():
            for value in row:
                if isinstance(value, bytes | memoryview):
                    yield bytes(value).decode("utf-8", errors="replace")
                elif value is not None:
                    yield str(value)


def test_a_day_on_a_matter_leaves_no_client_information_in_any_audit_record(
    client, alice, bob, charlie, matter, settings, caplog
):
    settings.AUDIT_GAP_GRACE_SECONDS = -(10**9)  # chain everything now, gaps included
    matter.title, matter.description = "Operation Nightjar", "Quiet acquisition of a rival"
    matter.save()
    matter.client.name = "Corvid Capital"
    matter.client.save()
    PartyFactory(matter=matter, name="Magpie Shipping", role=PartyRole.ADVERSE)
    caplog.set_level(logging.INFO, logger="custos.audit.siem")

    alice_client = signed_in(client, alice)
    alice_client.get(reverse("matters:list"), {"q": "nightjar"})
    alice_client.get(matter.get_absolute_url())
    upload = SimpleUploadedFile("heads-of-terms.pdf", b"%PDF-1.4 heads of terms\n", content_type="application/pdf")
    response = alice_client.post(
        reverse("matters:document_upload", args=[matter.pk]),
        {"title": "Heads of terms", "classification": matter.classification, "file": upload},
    )
    assert response.status_code == 302
    document = matter.documents.get()
    alice_client.get(reverse("matters:document_detail", args=[document.pk]))
    b"".join(alice_client.get(reverse("matters:document_download", args=[document.pk])).streaming_content)

    grant = grant_matter_access(
        actor=alice, matter=matter, level=GrantLevel.DOWNLOAD, reason="partner asked for it", user=charlie
    )
    revoke_matter_access(actor=alice, grant=MatterUserGrant.objects.get(pk=grant.pk))
    signed_in(client, charlie).get(matter.get_absolute_url())  # refused, and recorded
    signed_in(client, bob).get(reverse("matters:document_download", args=[document.pk]))  # view-only: refused
    make_document(matter, title="Heads of terms", name="heads-of-terms.pdf", uploader=alice)
    chain_pending_events()

    looked_at = 0
    for table in AUDIT_TABLES:
        for text in _raw_texts(table):
            looked_at += 1
            for secret in SECRETS:
                assert secret.casefold() not in text.casefold(), f"{secret!r} found in {table}"
    assert looked_at > 100  # the day was recorded: there was something to search
    for record in caplog.records:  # the SIEM feed carries the same bytes
        for secret in SECRETS:
            assert secret.casefold() not in record.getMessage().casefold()
    assert any(r.name == "custos.audit.siem" for r in caplog.records)
