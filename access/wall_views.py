"""Placeholder: being written."""

from django.http import Http404


def wall_list(request, pk=None):
    raise Http404


def wall_new(request, pk=None):
    raise Http404


def wall_detail(request, pk=None):
    raise Http404


def wall_lift(request, pk=None):
    raise Http404


def wall_acknowledge(request, pk=None):
    raise Http404
