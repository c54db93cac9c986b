"""Placeholder: being written."""

from django.http import Http404


def dashboard(request, pk=None):
    raise Http404


def export_csv(request, pk=None):
    raise Http404


def people(request, pk=None):
    raise Http404


def person_record(request, pk=None):
    raise Http404
