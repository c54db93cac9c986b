"""Placeholder: being written."""

from django.http import Http404


def sign(request, pk=None):
    raise Http404


def document_list(request, pk=None):
    raise Http404


def document_new(request, pk=None):
    raise Http404


def version_new(request, pk=None):
    raise Http404
