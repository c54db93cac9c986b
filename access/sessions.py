"""Session bookkeeping: which sessions a person holds, and how long they last.

Django rotates the session id at sign-in; we rotate it again when the second
factor is verified (a privilege change), and keep :class:`UserSession` in step
so a person's sessions can be ended at once.
"""

from __future__ import annotations

import time

from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest

from access.models import UserSession
from access.network import client_ip

AUTH_AT = "custos_auth_at"
SEEN_AT = "custos_seen_at"


def start_session(request: HttpRequest) -> None:
    """Record a new signed-in session; call right after ``auth.login``."""
    now = int(time.time())
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    request.session.save()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": request.user,
            "ip_address": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        },
    )


def rotate_session(request: HttpRequest) -> None:
    """Give the session a new id, keeping its data and its record."""
    old_key = request.session.session_key
    request.session.cycle_key()
    UserSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)


def forget_session(request: HttpRequest) -> None:
    if request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()


def keep_session_after_password_change(request: HttpRequest) -> None:
    """Keep this session signed in after a password change (Django gives it a new id)."""
    old_key = request.session.session_key
    update_session_auth_hash(request, request.user)
    UserSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)
