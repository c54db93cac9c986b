"""Placeholder: being written."""

from django.http import Http404


def course_list(request, pk=None):
    raise Http404


def course_edit(request, pk=None):
    raise Http404


def course_publish(request, pk=None):
    raise Http404


def course_retire(request, pk=None):
    raise Http404


def question_edit(request, pk=None):
    raise Http404


def question_delete(request, pk=None):
    raise Http404


def attachment_add(request, pk=None):
    raise Http404


def attachment_remove(request, pk=None):
    raise Http404


def assign(request, pk=None):
    raise Http404


def rule_end(request, pk=None):
    raise Http404
