"""The security officer's review of the audit trail (being written)."""

from __future__ import annotations

from django.http import HttpResponse

from audit.permissions import reviewer_required


@reviewer_required
def events(request, **kwargs):
    return HttpResponse(status=501)


@reviewer_required
def event_detail(request, **kwargs):
    return HttpResponse(status=501)


@reviewer_required
def person_timeline(request, **kwargs):
    return HttpResponse(status=501)


@reviewer_required
def matter_timeline(request, **kwargs):
    return HttpResponse(status=501)


@reviewer_required
def export(request, **kwargs):
    return HttpResponse(status=501)


@reviewer_required
def chain_status(request, **kwargs):
    return HttpResponse(status=501)


@reviewer_required
def verify(request, **kwargs):
    return HttpResponse(status=501)


@reviewer_required
def checkpoints_file(request, **kwargs):
    return HttpResponse(status=501)


@reviewer_required
def verification_detail(request, **kwargs):
    return HttpResponse(status=501)
