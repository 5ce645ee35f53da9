from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Project pool")

    def ready(self):
        from projects import webhook_events
        from projects.notifications import receivers

        webhook_events.connect()
        receivers.connect()
