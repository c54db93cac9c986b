"""Session limits and the second-factor requirement, applied to every request."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from access.sessions import AUTH_AT, SEEN_AT, forget_session
from audit.actions import AuditAction
from audit.events import record_event

# Writing the session on every request would cost a database write per page;
# the idle clock is refreshed at most once a minute instead.
_SEEN_RESOLUTION = 60


class SessionLimitsMiddleware:
    """Signs a person out after SESSION_IDLE_TIMEOUT idle or SESSION_ABSOLUTE_TIMEOUT in all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.user.is_authenticated:
            now = int(time.time())
            ended = _why_session_ends(request, now)
            if ended:
                # Before logout, while the event can still name the person and the session.
                record_event(AuditAction.SIGN_OUT, reason=ended, detail={"automatic": True})
                forget_session(request)
                logout(request)
                messages.info(request, _("You were signed out because your session expired. Please sign in again."))
            elif now - request.session.get(SEEN_AT, now) >= _SEEN_RESOLUTION or AUTH_AT not in request.session:
                request.session[SEEN_AT] = now
                request.session.setdefault(AUTH_AT, now)
        return self.get_response(request)


def _why_session_ends(request: HttpRequest, now: int) -> str:
    """Why the session ends now — "departed", "expired" (absolute limit) or "idle" — or "" if it goes on."""
    if request.user.is_departed:
        return "departed"
    if now - request.session.get(AUTH_AT, now) > settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds():
        return "expired"
    if now - request.session.get(SEEN_AT, now) > settings.SESSION_IDLE_TIMEOUT.total_seconds():
        return "idle"
    return ""


def second_factor_not_required(view):
    """Mark a view reachable by a signed-in person before the second factor is verified."""
    view.second_factor_exempt = True
    return view


class RequireSecondFactorMiddleware:
    """Until the second factor is verified, only sign-in and enrolment pages answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if getattr(view_func, "second_factor_exempt", False) or getattr(view_func, "login_required", True) is False:
            return None
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('access:verify')}?{query}")


class NoStoreForSignedInMiddleware:
    """Pages shown to a signed-in person are never kept in a browser or proxy cache.

    Client data and backup codes must not come back from a shared workstation's
    cache after sign-out.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            add_never_cache_headers(response)
        return response
