"""Roles are Django groups. This module names them and says which model permissions each
group carries; `sync_groups` (run by a migration) makes the database match."""

from django.contrib.auth.management import create_permissions

OFFICER = "officer"
REVIEWER = "reviewer"
MANAGER = "manager"
PARTNER = "partner"
ROLES = (OFFICER, REVIEWER, MANAGER, PARTNER)
STAFF_ROLES = frozenset({OFFICER, REVIEWER, MANAGER})

_READ_REFERENCE = [
    "registry.view_country",
    "registry.view_countrygroup",
    "registry.view_sector",
]
# Risk registers and warnings: staff only, never partners.
_READ_RISK = [
    "projects.view_countryrisk",
    "projects.view_projectrisk",
    "projects.view_warning",
]
_READ_POOL = [
    "projects.view_project",
    "projects.view_projectcountry",
    "projects.view_projectsector",
    "projects.view_participation",
    "projects.view_tag",
    "projects.view_statuschange",
    "projects.view_progressupdate",
    "partners.view_partner",
    "projects.view_result",
    "projects.view_indicator",
    "projects.view_period",
    "projects.view_standardindicator",
]

# Delete permissions are given to nobody: nothing in the pool is ever hard-deleted.
GROUP_PERMISSIONS: dict[str, list[str]] = {
    OFFICER: [
        *_READ_REFERENCE,
        *_READ_POOL,
        *_READ_RISK,
        "projects.add_projectrisk",
        "projects.change_projectrisk",
        "projects.add_project",
        "projects.change_project",
        "projects.add_projectcountry",
        "projects.change_projectcountry",
        "projects.delete_projectcountry",
        "projects.add_projectsector",
        "projects.change_projectsector",
        "projects.delete_projectsector",
        "projects.add_participation",
        "projects.change_participation",
        "projects.delete_participation",
        "projects.add_tag",
        "projects.add_progressupdate",
        "projects.view_supportdecision",
        "projects.add_result",
        "projects.change_result",
        "projects.add_indicator",
        "projects.change_indicator",
        "projects.add_period",
        "projects.change_period",
        "partners.add_partner",
        "partners.change_partner",
        "partners.view_contact",
        "partners.add_contact",
        "partners.change_contact",
    ],
    REVIEWER: [
        *_READ_REFERENCE,
        *_READ_POOL,
        *_READ_RISK,
        "projects.review_project",
        "projects.view_review",
        "projects.add_review",
        "projects.view_supportdecision",
        "partners.view_contact",
    ],
    MANAGER: [
        *_READ_REFERENCE,
        *_READ_POOL,
        *_READ_RISK,
        "projects.add_countryrisk",
        "projects.add_projectrisk",
        "projects.change_projectrisk",
        "projects.change_warning",
        "projects.decide_project",
        "projects.view_review",
        "projects.view_supportdecision",
        "projects.add_supportdecision",
        "projects.change_supportdecision",
        "projects.add_progressupdate",
        "partners.add_partner",
        "partners.change_partner",
        "partners.view_contact",
        "partners.add_contact",
        "partners.change_contact",
        "partners.view_membership",
        "registry.add_countrygroup",
        "registry.change_countrygroup",
        "projects.add_standardindicator",
        "projects.change_standardindicator",
    ],
    PARTNER: [
        "projects.view_project",
        "projects.view_progressupdate",
        "projects.add_progressupdate",
    ],
}


def sync_groups(apps=None, *, verbosity: int = 0) -> None:
    """Create the role groups and set exactly the permissions above (idempotent)."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=verbosity)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for name in names:
            app_label, codename = name.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            # A model a later migration creates has no permission yet when an earlier
            # migration syncs; the migration creating it syncs again.
            if permission is not None:
                permissions.append(permission)
        group.permissions.set(permissions)
