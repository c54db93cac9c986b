from django.contrib.admin.apps import AdminConfig


class CustosAdminConfig(AdminConfig):
    default_site = "lawfirm.admin_site.CustosAdminSite"
