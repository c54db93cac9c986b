from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_roles(sender, **kwargs):
    from access.services import ensure_role_groups

    ensure_role_groups()


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = _("People and access")

    def ready(self):
        # Like Django's own permissions, role groups are (re)made after every migrate.
        # No sender filter: the permissions they hold belong to apps migrated later.
        post_migrate.connect(_ensure_roles, dispatch_uid="access.ensure_roles")
        # Audit events for failures announced only by signal (see access.signals).
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_login_failed

        from access import signals

        user_login_failed.connect(signals.record_sign_in_failure, dispatch_uid="access.audit_sign_in_failure")
        user_locked_out.connect(signals.record_lockout, dispatch_uid="access.audit_lockout")
        import lawfirm.checks  # noqa: F401  (registers the custos.* system checks)
