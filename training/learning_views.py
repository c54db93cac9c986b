"""Placeholder: being written."""

from django.http import Http404


def my_training(request, pk=None):
    raise Http404


def course_detail(request, pk=None):
    raise Http404


def quiz(request, pk=None):
    raise Http404


def attachment_download(request, pk=None):
    raise Http404


def attempt_detail(request, pk=None):
    raise Http404


def certificate(request, pk=None):
    raise Http404
