"""Placeholder: being written."""

from django.http import Http404


def intake_new(request, pk=None, user_id=None):
    raise Http404


def conflict_queue(request, pk=None, user_id=None):
    raise Http404


def conflict_detail(request, pk=None, user_id=None):
    raise Http404


def lateral_hire(request, pk=None, user_id=None):
    raise Http404
