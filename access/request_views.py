"""Placeholder: being written."""

from django.http import Http404


def my_requests(request, **kwargs):
    raise Http404


def request_new(request, **kwargs):
    raise Http404


def request_withdraw(request, **kwargs):
    raise Http404


def my_access(request, **kwargs):
    raise Http404


def approvals(request, **kwargs):
    raise Http404


def request_approve(request, **kwargs):
    raise Http404


def request_deny(request, **kwargs):
    raise Http404


def notifications(request, **kwargs):
    raise Http404


def notifications_read(request, **kwargs):
    raise Http404
