"""Alerts inbox and detection thresholds (being written)."""

from __future__ import annotations

from django.http import HttpResponse

from audit.permissions import reviewer_required


@reviewer_required
def inbox(request, **kwargs):
    return HttpResponse(status=501)


@reviewer_required
def alert_detail(request, **kwargs):
    return HttpResponse(status=501)


@reviewer_required
def detection_settings(request, **kwargs):
    return HttpResponse(status=501)
