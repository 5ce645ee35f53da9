"""A project as the API shows it to a partner, outside a request: webhook bodies
(`projects.webhook_events`) use the API's own serializers, so a body never differs from
what `GET /api/v1/projects/{code}/` answers a partner."""

from django.conf import settings
from django.db.models import Prefetch

from projects import access
from projects.api import serializers as s
from projects.models import Project, Site


def _absolute(url: str) -> str:
    return url if "://" in url else settings.REGISTRY_BASE_URL + url


def partner_project(user, project_pk: int) -> dict | None:
    """The project in the partner projection of the detail route
    (`PartnerProjectDetailSerializer`: the list's fields and the sites), if `user` may
    see it (`access.visible_projects`), else None. Hyperlinks are made absolute with
    REGISTRY_BASE_URL (there is no request to build them from)."""
    projects = Project.objects.with_relations(tag_names=True).prefetch_related(
        Prefetch("sites", Site.objects.current().order_by("id"), to_attr="current_sites")
    )
    project = access.visible_projects(user, projects).filter(pk=project_pk).first()
    if project is None:
        return None
    data = dict(s.PartnerProjectDetailSerializer(project, context={"request": None}).data)
    data["url"] = _absolute(data["url"])
    return data


def partner_support_decision(decision) -> dict:
    return dict(s.PartnerSupportDecisionSerializer(decision).data)


def progress_update(update) -> dict:
    return dict(s.ProgressUpdateSerializer(update).data)
