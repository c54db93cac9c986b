from __future__ import annotations

from django.conf import settings
from django.db.models import Func, IntegerField, QuerySet, Subquery
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from access.access_requests import pending_for
from access.models import Notification, Role, User
from audit.permissions import is_reviewer

_MATTER_ROLES = {Role.LAWYER, Role.PARTNER, Role.VENDOR}
# Who decides requests: administrators, the security officer (highly confidential
# matters) and partners (their own matters). Others never have anything to decide.
_APPROVER_ROLES = {Role.ADMINISTRATOR, Role.SECURITY_OFFICER, Role.PARTNER}
# Who sees every person's and every matter's access (access.oversight_views).
_OVERSIGHT_ROLES = {Role.ADMINISTRATOR, Role.SECURITY_OFFICER}
# As matters.keys.may_manage_keys, which the client keys views apply (access imports no app above it).
_KEY_ROLES = {Role.SECURITY_OFFICER, Role.ADMINISTRATOR}

# Who erects walls (the security officer, conflicts partners) and who recertifies access.
_WALL_ROLES = {Role.SECURITY_OFFICER, Role.CONFLICTS}
_REVIEW_ROLES = {Role.SECURITY_OFFICER, Role.PARTNER}

# Who runs (HR) and reads (the security officer) the training programme (training.services).
_TRAINING_ROLES = {Role.HR, Role.SECURITY_OFFICER}

# The pages of the access app by navigation item; the rest of the app is one's account.
_ACCESS_SECTIONS = {
    "my_requests": "requests",
    "request_new": "requests",
    "request_withdraw": "requests",
    "my_access": "requests",
    "approvals": "approvals",
    "request_approve": "approvals",
    "request_deny": "approvals",
    "notifications": "notifications",
    "notifications_read": "notifications",
    "people": "people",
    "person_access": "people",
    "matter_access": "people",
    "team": "matters",
    "team_revoke_user": "matters",
    "team_revoke_group": "matters",
    "wall_list": "walls",
    "wall_new": "walls",
    "wall_detail": "walls",
    "wall_lift": "walls",
    "reviews": "reviews",
    "review_detail": "reviews",
    "review_close": "reviews",
    "review_decide": "reviews",
    "stale_access": "reviews",
    "stale_revoke": "reviews",
    "break_glass_reviews": "people",
    "break_glass_review": "people",
    "report_matter_access": "people",
    "report_transparency": "people",
    "break_glass_new": "matters",
}


def navigation(request) -> dict:
    """The navigation a person's roles call for (what they may reach is still decided per request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {"nav_items": []}
    roles = {Role(name) for name in user.role_names()}
    items = []
    if roles & _MATTER_ROLES:
        items.append({"key": "matters", "label": _("Matters"), "url": reverse("matters:list")})
        items.append({"key": "requests", "label": _("Access requests"), "url": reverse("access:my_requests")})
    if roles & _APPROVER_ROLES:
        pending = _counts(request, user)["pending"]
        items.append(
            {
                "key": "approvals",
                "label": _("Approvals"),
                "url": reverse("access:approvals"),
                "badge": pending,
                "badge_label": ngettext("%(count)d request to decide", "%(count)d requests to decide", pending)
                % {"count": pending},
            }
        )
    if roles & _OVERSIGHT_ROLES:
        items.append({"key": "people", "label": _("Access overview"), "url": reverse("access:people")})
    if roles & _WALL_ROLES:
        items.append({"key": "walls", "label": _("Ethical walls"), "url": reverse("access:wall_list")})
    if Role.CONFLICTS in roles:
        items.append({"key": "conflicts", "label": _("Conflict checks"), "url": reverse("matters:conflict_queue")})
    if roles & _REVIEW_ROLES:
        items.append({"key": "reviews", "label": _("Access reviews"), "url": reverse("access:reviews")})
    # The training app's pages, by URL name (access imports no app above it): one's own
    # training for everyone but vendor users; the programme for HR and the security officer.
    if roles - {Role.VENDOR}:
        items.append({"key": "training", "label": _("My training"), "url": reverse("training:mine")})
    if roles & _TRAINING_ROLES:
        items.append({"key": "training_manage", "label": _("Training programme"), "url": reverse("training:dashboard")})
    # The reviewer group is a role (the security officer); checking the cached role
    # names first spares everyone else a query. is_reviewer decides, as the views do.
    if settings.AUDIT_REVIEWER_GROUP in user.role_names() and is_reviewer(user):
        # Alerts, the chain and the thresholds are in the audit section's own navigation.
        items.append({"key": "audit", "label": _("Audit"), "url": reverse("audit:events")})
    if roles & _KEY_ROLES and user.is_active and not user.is_departed:
        items.append({"key": "client_keys", "label": _("Client keys"), "url": reverse("matters:client_keys")})
    if user.is_staff:
        items.append({"key": "admin", "label": _("Administration"), "url": reverse("admin:index")})
    unread = _counts(request, user)["unread"]
    items.append(
        {
            "key": "notifications",
            "label": _("Notifications"),
            "url": reverse("access:notifications"),
            "badge": unread,
            "badge_label": ngettext("%(count)d unread", "%(count)d unread", unread) % {"count": unread},
        }
    )
    items.append({"key": "security", "label": _("Account security"), "url": reverse("access:security")})
    section = _section(getattr(request, "resolver_match", None))
    for item in items:
        item["current"] = item["key"] == section
    return {"nav_items": items, "user_roles": sorted(Role(r).label for r in roles)}


def _counts(request, user) -> dict:
    """The badge counts, read in one query at most once per request (a page may render several templates).

    Each count is a subquery of one row: unread notifications, and for someone who
    may decide requests the queue's length (its ordering and prefetch dropped).
    """
    counts = getattr(request, "_custos_nav_counts", None)
    if counts is not None:
        return counts
    wanted = {"unread": Notification.objects.filter(recipient=user.pk, read_at__isnull=True)}
    if user.role_names() & {role.value for role in _APPROVER_ROLES}:
        wanted["pending"] = pending_for(user)
    counts = {name: 0 for name, rows in wanted.items() if rows.query.is_empty()}
    counted = {name: _count_of(rows) for name, rows in wanted.items() if name not in counts}
    if counted:
        counts.update(User.objects.filter(pk=user.pk).values(**counted).first() or dict.fromkeys(counted, 0))
    request._custos_nav_counts = counts
    return counts


def _count_of(rows: QuerySet) -> Subquery:
    """``SELECT COUNT(*) FROM (rows)`` as a scalar subquery: COUNT written as a plain function adds no GROUP BY."""
    plain = rows.order_by().select_related(None).prefetch_related(None)
    return Subquery(
        plain.annotate(n=Func(template="COUNT(*)", output_field=IntegerField())).values("n"),
        output_field=IntegerField(),
    )


def _section(match) -> str | None:
    """The navigation item a page belongs to: its app, except the client keys pages inside ``matters``
    and the access app's pages, which belong to several items."""
    if match is None:
        return None
    if match.app_name == "matters" and (match.url_name or "").startswith("client_"):
        return "client_keys"
    if match.app_name == "matters" and match.url_name in ("conflict_queue", "conflict_detail"):
        return "conflicts"
    if match.app_name == "access":
        return _ACCESS_SECTIONS.get(match.url_name or "", "security")
    if match.app_name == "training":
        mine = {"mine", "course", "quiz", "attachment", "attempt", "certificate", "sign"}
        return "training" if match.url_name in mine else "training_manage"
    return match.app_name
