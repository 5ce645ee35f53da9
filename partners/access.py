"""Who may see and do what with partner institutions. `projects.access` re-exports these
rules, so the admin, the API and the import still ask one module; they are written here
because `partners` sits below `projects` and may not import it.

Which institutions a partner user sees depends on the projects it sees, which only the
projects app knows: it hands that rule in through `register_related_partners` (called
from its `AppConfig.ready`), instead of this module importing it."""

from collections.abc import Callable

from django.db.models import Q, QuerySet

from partners.models import Partner
from registry.roles import (
    MANAGER,
    OFFICER,
    is_staff_member,
    is_superuser,
    user_roles,
)

# Rights on kinds of records are the roles table's; re-exported for the admin and API.
from registry.roles import can_use_app as can_use_app
from registry.roles import can_use_model as can_use_model

# Functions (user) -> a filter (Q) on partners the user sees through other records.
_related_partner_sources: list[Callable[[object], Q]] = []


def register_related_partners(source: Callable[[object], Q]) -> None:
    """Add a rule naming further institutions a non-staff user may see (idempotent)."""
    if source not in _related_partner_sources:
        _related_partner_sources.append(source)


def member_partner_ids(user) -> frozenset[int]:
    """The institutions a user acts for."""
    if not user or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_registry_partner_ids", None)
    if cached is None:
        cached = frozenset(user.memberships.values_list("partner_id", flat=True))
        user._registry_partner_ids = cached
    return cached


def can_end_memberships(user) -> bool:
    """A user stops acting for an institution: only administrators make that change."""
    return is_superuser(user)


def sees_contacts(user) -> bool:
    return is_staff_member(user)


def can_manage_partners(user) -> bool:
    """Enter and change partner institutions: officers, managers and administrators
    (the groups that carry partners.add_partner/change_partner)."""
    return is_superuser(user) or bool(user_roles(user) & {OFFICER, MANAGER})


def visible_partners(user, queryset: QuerySet | None = None) -> QuerySet:
    """Staff see every institution; a partner user sees its own institutions and those
    the registered rules name (the projects app: those leading or taking part in the
    projects it can see)."""
    queryset = Partner.objects.all() if queryset is None else queryset
    if is_staff_member(user):
        return queryset
    if not user or not user.is_authenticated:
        return queryset.none()
    condition = Q(pk__in=member_partner_ids(user))
    for source in _related_partner_sources:
        condition |= source(user)
    return queryset.filter(condition)
