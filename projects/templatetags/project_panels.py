"""Panels on the project's admin page: its results, and (staff only) its open warnings
and risk register."""

from django import template

from projects.results.api import project_results
from projects.risk import access as risk_access
from projects.risk.models import Warning

register = template.Library()


@register.inclusion_tag("admin/projects/project/_panels.html", takes_context=True)
def project_panels(context, project):
    user = context["request"].user
    panels = {"project": project, "results": [], "warnings": [], "risks": []}
    if project is None or not getattr(project, "pk", None):
        return panels
    panels["results"] = project_results(project)
    if risk_access.sees_risk(user):
        panels["sees_risk"] = True
        panels["warnings"] = Warning.objects.filter(
            project=project, resolved_at__isnull=True
        ).order_by("-severity", "-first_seen")
        panels["risks"] = project.risks.order_by("-opened_on", "-id")
    return panels
