from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("Training and agreements")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from training import signals  # noqa: F401  (connects the joiner hooks)
