"""Who may review the audit trail: members of the reviewer group (the security officer), and no one else.

Not superusers, not administrators: reading who looked at which matter is itself
sensitive. Everyone else gets 404, as for a matter they may not see.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from audit.actions import AuditAction, Outcome


def is_reviewer(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and not is_verified():
        return False
    if getattr(user, "is_departed", False):
        return False
    return user.groups.filter(name=settings.AUDIT_REVIEWER_GROUP).exists()


_NOT_A_REVIEWER = _("Only the security officer reviews the audit trail.")


def reviewer_required(view):
    """404 for anyone but the security officer."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_reviewer(request.user):
            # Someone reaching for the audit trail who may not read it is itself worth knowing.
            from audit.events import record_event

            record_event(
                AuditAction.AUDIT_VIEW, outcome=Outcome.DENIED, reason=_NOT_A_REVIEWER, detail={"path": request.path}
            )
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
