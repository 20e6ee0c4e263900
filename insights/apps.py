from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    """What readers asked and where the docs failed them: the admin dashboard and gap topics."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"
    verbose_name = _("Insights")
