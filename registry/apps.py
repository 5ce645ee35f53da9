from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Reference data")

    def ready(self):
        from registry import (  # noqa: F401
            freshness,  # connects its request signals before the first request
            token_admin,  # registers the API token admin
        )
