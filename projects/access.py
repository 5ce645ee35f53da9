"""Who may see and do what in the pool: the one place the admin, the API, the import and
the workflow ask. Each rule exists as a queryset filter and as an object check, and the
object checks are written in terms of the same memberships so the two always agree."""

from django.db.models import Exists, OuterRef, Q, QuerySet

# The partner rules and the role facts live in the layers below (partners may not import
# projects); re-exported so every caller still asks this one module.
from partners.access import can_end_memberships as can_end_memberships
from partners.access import can_manage_partners as can_manage_partners
from partners.access import can_use_app as can_use_app
from partners.access import can_use_model as can_use_model
from partners.access import member_partner_ids as member_partner_ids
from partners.access import sees_contacts as sees_contacts
from partners.access import visible_partners as visible_partners
from projects.models import Participation, Project, Status
from registry.roles import MANAGER, OFFICER, PARTNER, REVIEWER
from registry.roles import is_staff_member as is_staff_member
from registry.roles import is_superuser as is_superuser
from registry.roles import user_roles as user_roles


def sees_whole_pool(user) -> bool:
    return is_superuser(user) or bool(user_roles(user) & {REVIEWER, MANAGER})


def is_partner_only(user) -> bool:
    """A partner user: sees partner fields only, never internal ones."""
    return not is_staff_member(user) and PARTNER in user_roles(user)


def visible_projects(user, queryset: QuerySet | None = None) -> QuerySet:
    queryset = Project.objects.all() if queryset is None else queryset
    if sees_whole_pool(user):
        return queryset
    roles = user_roles(user)
    partner_ids = member_partner_ids(user)
    condition = Q(pk__in=[])
    if OFFICER in roles:
        condition |= Q(lead_unit_id__in=partner_ids)
    if PARTNER in roles:
        # Drafts are the office's working copies: a partner follows a project from its
        # submission on (the API, the portal and webhooks all ask here).
        condition |= Q(
            Exists(
                Participation.objects.filter(project_id=OuterRef("pk"), partner_id__in=partner_ids)
            )
        ) & ~Q(status=Status.DRAFT)
    return queryset.filter(condition)


def can_view_project(user, project: Project) -> bool:
    return visible_projects(user, Project.objects.filter(pk=project.pk)).exists()


def editable_projects(user, queryset: QuerySet | None = None) -> QuerySet:
    queryset = Project.objects.all() if queryset is None else queryset
    if is_superuser(user):
        return queryset
    if OFFICER in user_roles(user):
        return queryset.filter(lead_unit_id__in=member_partner_ids(user))
    return queryset.none()


def can_edit_project(user, project: Project) -> bool:
    """Officers edit the projects their unit leads; administrators edit any."""
    if is_superuser(user):
        return True
    return OFFICER in user_roles(user) and project.lead_unit_id in member_partner_ids(user)


def can_change_project(user, project: Project) -> bool:
    """Whether `user` may write to `project` at all: its officers and administrators, and
    managers (for the review schedule). Which fields, in which status, the editable-fields
    table in `projects.workflow` says."""
    return can_edit_project(user, project) or can_decide(user)


def can_create_project(user, lead_unit_id: int | None = None) -> bool:
    if is_superuser(user):
        return True
    if OFFICER not in user_roles(user):
        return False
    return lead_unit_id is None or lead_unit_id in member_partner_ids(user)


def assignable_lead_units(user, queryset: QuerySet) -> QuerySet:
    """The institutions a user may name as a project's lead unit (agrees with
    `can_create_project`): any for administrators, their own units for officers."""
    if is_superuser(user):
        return queryset
    if OFFICER not in user_roles(user):
        return queryset.none()
    return queryset.filter(pk__in=member_partner_ids(user))


def can_review(user, project: Project) -> bool:
    """Reviewers review, but never a project their own institution leads."""
    if REVIEWER not in user_roles(user) and not is_superuser(user):
        return False
    return project.lead_unit_id not in member_partner_ids(user)


def can_decide(user) -> bool:
    """Managers decide on selection and support."""
    return is_superuser(user) or MANAGER in user_roles(user)


def sees_round_scores(user, *, reviewed_by_me: bool) -> bool:
    """Scores of a screening round's current reviews: managers always; a reviewer only
    once they have recorded their own review of that round, so nobody anchors on others'."""
    return can_decide(user) or reviewed_by_me


def visible_reviews(user, queryset):
    """Reviews a user may read: managers all; others every past round's, their own, and
    the current round's of projects they have reviewed in that round."""
    if can_decide(user):
        return queryset
    from django.db.models import Exists, F, OuterRef, Q

    from projects.models import Review

    own_in_round = Review.objects.filter(
        project=OuterRef("project"), round=OuterRef("round"), reviewer_id=user.pk
    )
    return queryset.filter(
        Q(reviewer_id=user.pk) | ~Q(round=F("project__screening_round")) | Exists(own_in_round)
    )


def can_post_progress(user, project: Project) -> bool:
    if can_edit_project(user, project) or can_decide(user):
        return True
    return PARTNER in user_roles(user) and can_view_project(user, project)


def can_view_stats(user) -> bool:
    """Office staff see pipeline figures and the dashboard, always computed over
    `visible_projects(user)`: an officer's figures cover their own unit's projects."""
    return is_staff_member(user)


def can_export_projects(user) -> bool:
    """Office staff may export the list they see (CSV/XLSX); partners may not."""
    return is_staff_member(user)


def can_publish_iati(user) -> bool:
    """The IATI file speaks for the whole office, so only those who see the whole pool
    may produce it."""
    return sees_whole_pool(user)


def can_view_reviews(user) -> bool:
    """Screening reviews are read by reviewers and managers, never by partners."""
    return sees_whole_pool(user)


def partners_in_visible_projects(user) -> Q:
    """The institutions leading or taking part in the projects `user` sees, as a filter
    on partners: what a partner user sees of other institutions (handed to
    `partners.access.visible_partners` by `ProjectsConfig.ready`)."""
    projects = visible_projects(user)
    return Q(pk__in=projects.values("lead_unit_id")) | Q(
        pk__in=Participation.objects.filter(project__in=projects).values("partner_id")
    )
