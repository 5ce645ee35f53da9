"""Who may do what with results; built on `projects.access` so the rules agree with it."""

from projects import access
from projects.models import Project
from registry.roles import MANAGER, PARTNER


def can_view_results(user, project: Project) -> bool:
    """Whoever sees the project sees its results (partners included: results are public)."""
    return access.can_view_project(user, project)


def can_define_results(user, project: Project) -> bool:
    """Results, indicators, baselines and targets are set by the lead unit's officers."""
    return access.can_edit_project(user, project)


def reporting_partner_ids(user, project: Project) -> frozenset[int]:
    """The user's institutions that take part in the project (as participant or lead)."""
    own = access.member_partner_ids(user)
    if not own:
        return frozenset()
    taking_part = set(project.participations.values_list("partner_id", flat=True))
    taking_part.add(project.lead_unit_id)
    return own & taking_part


def can_report_actuals(user, project: Project) -> bool:
    """The lead unit's officers, and partner users of an institution taking part."""
    if access.can_edit_project(user, project):
        return True
    return PARTNER in access.user_roles(user) and bool(reporting_partner_ids(user, project))


def can_approve_actuals(user, project: Project) -> bool:
    """Reported actuals are approved or returned by the lead unit's officers."""
    return access.can_edit_project(user, project)


def can_manage_standard_indicators(user) -> bool:
    return access.is_superuser(user) or MANAGER in access.user_roles(user)
