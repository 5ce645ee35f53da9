from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Project pool")

    def ready(self):
        # partners sits below projects: it learns from here which institutions a
        # partner user sees through the projects it takes part in.
        from partners.access import register_related_partners
        from projects.access import partners_in_visible_projects

        register_related_partners(partners_in_visible_projects)

        from projects import webhook_events
        from projects.notifications import receivers

        webhook_events.connect()
        receivers.connect()

        # The events that recompute warnings (projects.risk.events).
        from projects.risk import events  # noqa: F401
