"""Placeholder: being written."""

from django.http import Http404


def break_glass_new(request, pk=None):
    raise Http404


def break_glass_reviews(request, pk=None):
    raise Http404


def break_glass_review(request, pk=None):
    raise Http404
