"""Who may see and do what in the pool: the one place the admin, the API, the import and
the workflow ask. Each rule exists as a queryset filter and as an object check, and the
object checks are written in terms of the same memberships so the two always agree."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from projects.models import Participation, Project
from registry.roles import MANAGER, OFFICER, PARTNER, REVIEWER, STAFF_ROLES


def user_roles(user) -> frozenset[str]:
    """The role groups of a user (cached on the user object for the request)."""
    if not user or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_registry_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._registry_roles = cached
    return cached


def member_partner_ids(user) -> frozenset[int]:
    """The institutions a user acts for."""
    if not user or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_registry_partner_ids", None)
    if cached is None:
        cached = frozenset(user.memberships.values_list("partner_id", flat=True))
        user._registry_partner_ids = cached
    return cached


def is_superuser(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


def sees_whole_pool(user) -> bool:
    return is_superuser(user) or bool(user_roles(user) & {REVIEWER, MANAGER})


def is_staff_member(user) -> bool:
    """Office staff (officers, reviewers, managers, administrators), as opposed to partners."""
    return is_superuser(user) or bool(user_roles(user) & STAFF_ROLES)


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
        condition |= Q(
            Exists(
                Participation.objects.filter(project_id=OuterRef("pk"), partner_id__in=partner_ids)
            )
        )
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


def sees_contacts(user) -> bool:
    return is_staff_member(user)


def can_manage_partners(user) -> bool:
    """Enter and change partner institutions: officers, managers and administrators
    (the groups that carry partners.add_partner/change_partner)."""
    return is_superuser(user) or bool(user_roles(user) & {OFFICER, MANAGER})


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


def visible_partners(user, queryset: QuerySet | None = None) -> QuerySet:
    """Staff see every institution; a partner user sees its own institutions and those
    leading or taking part in the projects it can see."""
    from partners.models import Partner

    queryset = Partner.objects.all() if queryset is None else queryset
    if is_staff_member(user):
        return queryset
    if not user or not user.is_authenticated:
        return queryset.none()
    projects = visible_projects(user)
    return queryset.filter(
        Q(pk__in=member_partner_ids(user))
        | Q(pk__in=projects.values("lead_unit_id"))
        | Q(pk__in=Participation.objects.filter(project__in=projects).values("partner_id"))
    )
