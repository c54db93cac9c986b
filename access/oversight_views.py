"""Placeholder: being written."""

from django.http import Http404


def people(request, **kwargs):
    raise Http404


def person_access(request, **kwargs):
    raise Http404


def matter_access(request, **kwargs):
    raise Http404
