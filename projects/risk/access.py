"""Who sees and keeps risks and warnings: office staff only, never partners."""

from django.db.models import QuerySet

from projects import access
from registry.roles import MANAGER


def sees_risk(user) -> bool:
    """Risk registers and warnings are internal: staff only."""
    return access.is_staff_member(user)


def visible_warnings(user, queryset: QuerySet) -> QuerySet:
    """Staff see the warnings of the projects they see (an officer, their unit's)."""
    if not sees_risk(user):
        return queryset.none()
    if access.sees_whole_pool(user):
        return queryset
    return queryset.filter(project__in=access.visible_projects(user))


def can_keep_country_risks(user) -> bool:
    return access.is_superuser(user) or MANAGER in access.user_roles(user)


def can_dismiss_warnings(user) -> bool:
    return access.is_superuser(user) or MANAGER in access.user_roles(user)


def can_keep_project_risks(user, project) -> bool:
    """The lead unit's officers and managers keep a project's risk register."""
    return access.can_edit_project(user, project) or access.can_decide(user)
