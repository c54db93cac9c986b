"""Audit events for what Django and django-axes announce only by signal.

A failed password and a lockout happen inside ``authenticate()`` (Django, then
axes' handler), not in our views; these receivers record them. Connected in
``AccessConfig.ready()``. The attempted username is recorded as typed — it
names no client — but no account is looked up for it.
"""

from __future__ import annotations

from audit.actions import AuditAction, Outcome
from audit.events import record_event

# As long as a username may be (AbstractUser.username).
USERNAME_LIMIT = 150


def _attempted_username(credentials: dict | None, username: str | None = None) -> str:
    return str(username or (credentials or {}).get("username") or "")[:USERNAME_LIMIT]


def record_sign_in_failure(sender, credentials=None, request=None, **kwargs) -> None:
    """``user_login_failed``: a wrong username or password, or a try while sign-in is paused.

    axes' own receiver runs first (its app is installed before ours), so the
    failure that starts a pause is recorded as "sign-in paused" too, next to
    the lockout event.
    """
    paused = bool(getattr(request, "axes_locked_out", False))
    record_event(
        AuditAction.SIGN_IN_FAILED,
        outcome=Outcome.FAILURE,
        actor=None,
        reason="sign-in paused" if paused else "wrong username or password",
        detail={"username": _attempted_username(credentials)},
        request=request,
    )


def record_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """django-axes' ``user_locked_out``: too many failures for this username and address."""
    record_event(
        AuditAction.LOCKED_OUT,
        outcome=Outcome.DENIED,
        actor=None,
        reason="too many failed sign-ins",
        detail={"username": _attempted_username(None, username)},
        request=request,
    )
