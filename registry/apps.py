from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Reference data")

    def ready(self):
        from registry import token_admin  # noqa: F401  (registers the API token admin)
