"""Request-level guard for document uploads."""

from __future__ import annotations

from django.conf import settings
from django.urls import Resolver404, resolve

from matters.uploads import DiscardFiles, exceeds_upload_limit


class OversizedUploadMiddleware:
    """Swap in a file-discarding upload handler for requests too large to hold an acceptable document."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method == "POST"
            and request.content_type == "multipart/form-data"
            and exceeds_upload_limit(request, _limit_for(request))
        ):
            request.upload_handlers = [DiscardFiles(request)]
        return self.get_response(request)


# Uploads that are not client documents, with their own limits (by URL name: no import of their apps).
_OTHER_LIMITS = {"training:attachment_add": "TRAINING_ATTACHMENT_MAX_BYTES"}


def _limit_for(request) -> int:
    try:
        name = resolve(request.path_info).view_name
    except Resolver404:
        name = ""
    return getattr(settings, _OTHER_LIMITS.get(name, "DOCUMENT_MAX_UPLOAD_BYTES"))
