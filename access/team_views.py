"""Placeholder: being written."""

from django.http import Http404


def team(request, **kwargs):
    raise Http404


def revoke_user_grant(request, **kwargs):
    raise Http404


def revoke_group_grant(request, **kwargs):
    raise Http404
