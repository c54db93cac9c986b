"""The administration site.

Administrators reach it through the same sign-in and second factor as everyone
else: its own password-only login page is replaced by a redirect to ours, and
only staff with a verified second factor may enter.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _


class CustosAdminSite(admin.AdminSite):
    site_header = _("Custos administration")
    site_title = _("Custos administration")
    index_title = _("Users, roles, grants and jobs")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return (
            super().has_permission(request)
            and bool(getattr(user, "is_verified", lambda: False)())
            and not user.is_departed
        )

    def password_change(self, request: HttpRequest, extra_context=None):
        return HttpResponseRedirect(reverse("access:change_password"))

    @method_decorator(login_not_required)
    def login(self, request: HttpRequest, extra_context=None):
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = reverse("admin:index")
        if self.has_permission(request):
            return HttpResponseRedirect(next_url)
        if request.user.is_authenticated and request.user.is_verified():
            raise PermissionDenied  # signed in fully, but not staff: another sign-in would not help
        return HttpResponseRedirect(f"{reverse('access:login')}?{urlencode({'next': next_url})}")


class ReadOnlyAdminMixin:
    """For records the admin shows but never edits (job runs, matter metadata, sessions)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StrictLookupsMixin:
    """Only the list's own filters may be used in its URL.

    Django's admin accepts a query-string lookup on any field of the model
    (``?title__startswith=A``), which would let someone who sees only metadata
    read other fields a letter at a time.
    """

    def lookup_allowed(self, lookup, value, request=None):
        roots = {_filter_root(entry) for entry in self.list_filter}
        if self.date_hierarchy:
            roots.add(self.date_hierarchy.split("__")[0])
        return lookup.split("__")[0] in roots and super().lookup_allowed(lookup, value, request)


def _filter_root(entry) -> str:
    """The first field name a list_filter entry filters on (a field, a (field, class) pair, or a filter class)."""
    if isinstance(entry, str):
        return entry.split("__")[0]
    if isinstance(entry, tuple):
        return entry[0].split("__")[0]
    return entry.parameter_name.split("__")[0]
