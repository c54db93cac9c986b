"""The administration site.

Administrators reach it through the same sign-in and second factor as everyone
else: its own password-only login page is replaced by a redirect to ours, and
only staff with a verified second factor may enter.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class CustosAdminSite(admin.AdminSite):
    site_header = _("Custos administration")
    site_title = _("Custos administration")
    index_title = _("Users, roles, grants and jobs")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return super().has_permission(request) and bool(getattr(user, "is_verified", lambda: False)())

    def login(self, request: HttpRequest, extra_context=None):
        next_url = request.GET.get("next") or reverse("admin:index")
        return HttpResponseRedirect(f"{reverse('access:login')}?{urlencode({'next': next_url})}")
