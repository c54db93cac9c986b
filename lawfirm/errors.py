"""Error pages that say more than Django's defaults."""

from __future__ import annotations

from django.http import HttpResponseForbidden
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token


@requires_csrf_token
def permission_denied(request, exception):
    """403 with the refusal's reason and, when the policy names one, the way to put it right
    (a lapsed person's course): ``access.policy`` raises ``PermissionDenied(decision)``."""
    decision = exception.args[0] if exception is not None and exception.args else None
    context = {
        "exception": str(decision) if decision is not None else "",
        "remedy_url": getattr(decision, "remedy_url", ""),
        "remedy_label": getattr(decision, "remedy_label", ""),
    }
    return HttpResponseForbidden(loader.render_to_string("403.html", context, request))
