"""A refusal is kept although the request fails and its transaction rolls back.

These tests run with real transactions (``transaction=True``): the view's
ATOMIC_REQUESTS transaction truly rolls back, and the row the probe view wrote
before being refused is gone — yet the refusal's event is there. Were the event
written inside that transaction, it would be gone with the row.

This module is also the URLconf of the probe view (``pytest.mark.urls``).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.urls import path, reverse

from access.policy import Action, get_matter_for
from audit.actions import AuditAction, Outcome
from audit.events import request_scope
from audit.models import AuditEvent
from lawfirm import urls as project_urls
from matters.models import Client, Document
from tests.audit.test_events_auth import browser, only_event
from tests.conftest import signed_in

PROBE_CLIENT_CODE = "PROBE-1"


def probe(request, pk):
    """Writes a row, then asks the policy for the matter: a refusal must outlive the rolled-back row."""
    Client.objects.create(code=PROBE_CLIENT_CODE, name="Probe client")
    get_matter_for(request.user, pk, Action.VIEW)
    return HttpResponse("seen")


urlpatterns = [path("probe/<uuid:pk>/", probe, name="probe"), *project_urls.urlpatterns]


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
def test_a_refusal_outlives_the_rollback_of_what_the_view_wrote(charlie, matter):
    client = signed_in(browser(), charlie)

    assert client.get(reverse("probe", args=[matter.pk])).status_code == 404

    assert not Client.objects.filter(code=PROBE_CLIENT_CODE).exists()  # the view's transaction rolled back
    event = only_event(AuditAction.MATTER_VIEW)
    assert event.outcome == Outcome.DENIED
    assert event.actor_id == charlie.pk
    assert event.matter_id == matter.pk


@pytest.mark.django_db(transaction=True)
def test_a_refused_matter_page_is_recorded_with_real_transactions(charlie, matter):
    assert signed_in(browser(), charlie).get(matter.get_absolute_url()).status_code == 404

    assert only_event(AuditAction.MATTER_VIEW).outcome == Outcome.DENIED


@pytest.mark.django_db(transaction=True)
def test_a_refused_upload_is_recorded_with_real_transactions(bob, matter):
    client = signed_in(browser(), bob)
    data = {"title": "x", "classification": matter.classification, "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4\n")}

    assert client.post(reverse("matters:document_upload", args=[matter.pk]), data).status_code == 403

    assert not Document.objects.exists()
    assert only_event(AuditAction.DOCUMENT_UPLOAD).outcome == Outcome.DENIED


def test_inside_a_request_a_refusal_waits_for_the_end_of_the_request_and_then_is_written(charlie, matter):
    """The mechanism, step by step: kept aside while the transaction is open, written by ``flush``."""
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.5")
    request.user = charlie
    scope = request_scope(request)

    with scope, pytest.raises(Http404), transaction.atomic():
        get_matter_for(charlie, matter.pk)
    assert not AuditEvent.objects.filter(action=AuditAction.MATTER_VIEW).exists()  # kept aside, not yet written

    scope.flush()

    event = only_event(AuditAction.MATTER_VIEW)
    assert event.outcome == Outcome.DENIED
    assert event.actor_id == charlie.pk
    assert event.ip_address == "203.0.113.5"
