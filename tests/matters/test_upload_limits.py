"""An oversized upload is refused without a byte of it written anywhere — with the CSRF check on."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.test import Client
from django.urls import reverse

from matters.models import Document
from tests.conftest import signed_in


def test_an_oversized_upload_is_refused_with_nothing_spooled(alice, matter, settings, monkeypatch, tmp_path):
    settings.DOCUMENT_MAX_UPLOAD_BYTES = 1024 * 1024
    written = []
    for handler in (TemporaryFileUploadHandler, MemoryFileUploadHandler):
        original = handler.receive_data_chunk
        monkeypatch.setattr(
            handler,
            "receive_data_chunk",
            lambda self, raw, start, original=original: written.append(len(raw)) or original(self, raw, start),
        )
    browser = signed_in(Client(enforce_csrf_checks=True), alice)
    url = reverse("matters:document_upload", args=[matter.pk])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(url).content.decode()).group(1)
    big = SimpleUploadedFile("huge.pdf", b"%PDF-" + b"0" * (3 * 1024 * 1024))
    response = browser.post(url, {"csrfmiddlewaretoken": token, "title": "Huge", "classification": 30, "file": big})
    assert response.status_code == 413
    assert "The file is larger than the 1 MB limit." in response.content.decode()
    assert written == []
    assert not Document.objects.exists()


def test_a_normal_upload_still_passes_the_csrf_check(alice, matter):
    browser = signed_in(Client(enforce_csrf_checks=True), alice)
    url = reverse("matters:document_upload", args=[matter.pk])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(url).content.decode()).group(1)
    small = SimpleUploadedFile("brief.pdf", b"%PDF-1.4 small\n")
    response = browser.post(url, {"csrfmiddlewaretoken": token, "title": "Brief", "classification": 30, "file": small})
    assert response.status_code == 302
    assert Document.objects.get().title == "Brief"
