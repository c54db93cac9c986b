from axes.apps import AppConfig as AxesAppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class CustosAdminConfig(AdminConfig):
    default_site = "lawfirm.admin_site.CustosAdminSite"


class SignInLockoutsConfig(AxesAppConfig):
    """django-axes, under a name administrators understand in the admin site."""

    verbose_name = _("Sign-in lockouts")
