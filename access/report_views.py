"""Placeholder: being written."""

from django.http import Http404


def report_matter_access(request, pk=None):
    raise Http404


def report_transparency(request, pk=None):
    raise Http404
