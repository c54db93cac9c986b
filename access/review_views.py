"""Placeholder: being written."""

from django.http import Http404


def reviews(request, pk=None):
    raise Http404


def review_detail(request, pk=None):
    raise Http404


def review_close(request, pk=None):
    raise Http404


def review_decide(request, pk=None):
    raise Http404


def stale_access(request, pk=None):
    raise Http404


def stale_revoke(request, pk=None):
    raise Http404
