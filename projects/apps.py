from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Project pool")

    def ready(self):
        # The events that recompute warnings (projects.risk.events).
        from projects.risk import events  # noqa: F401
