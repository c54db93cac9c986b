from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from access.models import Role
from audit.permissions import is_reviewer

_MATTER_ROLES = {Role.LAWYER, Role.PARTNER, Role.VENDOR}
# As matters.keys.may_manage_keys, which the client keys views apply (access imports no app above it).
_KEY_ROLES = {Role.SECURITY_OFFICER, Role.ADMINISTRATOR}


def navigation(request) -> dict:
    """The navigation a person's roles call for (what they may reach is still decided per request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {"nav_items": []}
    roles = {Role(name) for name in user.role_names()}
    items = []
    if roles & _MATTER_ROLES:
        items.append({"key": "matters", "label": _("Matters"), "url": reverse("matters:list")})
    # The reviewer group is a role (the security officer); checking the cached role
    # names first spares everyone else a query. is_reviewer decides, as the views do.
    if settings.AUDIT_REVIEWER_GROUP in user.role_names() and is_reviewer(user):
        # Alerts, the chain and the thresholds are in the audit section's own navigation.
        items.append({"key": "audit", "label": _("Audit"), "url": reverse("audit:events")})
    if roles & _KEY_ROLES and user.is_active and not user.is_departed:
        items.append({"key": "client_keys", "label": _("Client keys"), "url": reverse("matters:client_keys")})
    if user.is_staff:
        items.append({"key": "admin", "label": _("Administration"), "url": reverse("admin:index")})
    items.append({"key": "security", "label": _("Account security"), "url": reverse("access:security")})
    section = _section(getattr(request, "resolver_match", None))
    for item in items:
        item["current"] = item["key"] == section
    return {"nav_items": items, "user_roles": sorted(Role(r).label for r in roles)}


def _section(match) -> str | None:
    """The navigation item a page belongs to: its app, except the client keys pages inside ``matters``."""
    if match is None:
        return None
    if match.app_name == "matters" and (match.url_name or "").startswith("client_"):
        return "client_keys"
    return match.app_name
