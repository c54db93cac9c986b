from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from audit.events import request_scope

logger = logging.getLogger(__name__)


class AuditMiddleware:
    """Attributes the events recorded while serving a request to it, and writes
    the ones kept aside when the view is done — outside its transaction, so a
    denial is kept although the request fails and rolls back.

    Fails closed: if the events cannot be written, the response is withheld
    (503) rather than served without evidence.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        scope = request_scope(request)
        with scope:
            response = self.get_response(request)
        try:
            scope.flush()
        except Exception:
            # The exception class only: the message could quote the row.
            logger.error("audit events could not be written; response withheld")
            if hasattr(response, "close"):
                response.close()
            body = render_to_string("audit/unavailable.html", request=None)
            return HttpResponse(body, status=503)
        return response
