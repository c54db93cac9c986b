"""Request-level guard for document uploads."""

from __future__ import annotations

from django.conf import settings

from matters.uploads import DiscardFiles, exceeds_upload_limit


class OversizedUploadMiddleware:
    """Swap in a file-discarding upload handler for requests too large to hold an acceptable document."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method == "POST"
            and request.content_type == "multipart/form-data"
            and exceeds_upload_limit(request, settings.DOCUMENT_MAX_UPLOAD_BYTES)
        ):
            request.upload_handlers = [DiscardFiles(request)]
        return self.get_response(request)
