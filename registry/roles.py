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
    "projects.view_site",
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
        # A site's "delete" in the admin stamps `removed_at` (projects.sites.services).
        "projects.add_site",
        "projects.change_site",
        "projects.delete_site",
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
    from django.apps import apps as global_apps

    # In a migration (historical apps), models that later migrations add have no
    # permission yet: those are skipped here and granted by their own migration.
    historical = apps is not None and apps is not global_apps
    apps = apps or global_apps
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
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found is None and not historical:
                raise Permission.DoesNotExist(name)
            if found is not None:
                permissions.append(found)
        group.permissions.set(permissions)


# --- A user's roles (the facts every app's rights are written in) -------------------------


def user_roles(user) -> frozenset[str]:
    """The role groups of a user (cached on the user object for the request)."""
    if not user or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_registry_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._registry_roles = cached
    return cached


def is_superuser(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


def role_grants(user, permission: str) -> bool:
    """Whether a role of `user` carries `permission` ("app_label.codename") in the table
    above: the rights a role has on a kind of record, read from the table rather than from
    the database's permission rows, so the access modules decide with the roles alone.
    Administrators hold every permission."""
    if is_superuser(user):
        return True
    return any(permission in GROUP_PERMISSIONS.get(role, ()) for role in user_roles(user))


def role_grants_in_app(user, app_label: str) -> bool:
    """Whether a role of `user` carries any permission of the app `app_label`."""
    if is_superuser(user):
        return True
    prefix = f"{app_label}."
    return any(
        name.startswith(prefix)
        for role in user_roles(user)
        for name in GROUP_PERMISSIONS.get(role, ())
    )


def is_staff_member(user) -> bool:
    """Office staff (officers, reviewers, managers, administrators), as opposed to partners."""
    return is_superuser(user) or bool(user_roles(user) & STAFF_ROLES)


# --- Rights on kinds of records (what the admin's pages ask before their own rules) -----

MODEL_ACTIONS = ("view", "add", "change", "delete")


def can_use_model(user, action: str, model) -> bool:
    """Whether `user`'s roles let them `action` ("view", "add", "change", "delete") records
    of `model` at all, as the roles table (`GROUP_PERMISSIONS`) grants it; which records,
    the object rules of the access modules say. Changing implies viewing."""
    if action not in MODEL_ACTIONS:
        raise ValueError(action)
    opts = model._meta
    name = f"{opts.app_label}.{action}_{opts.model_name}"
    if action == "view" and can_use_model(user, "change", model):
        return True
    return role_grants(user, name)


def can_use_app(user, app_label: str) -> bool:
    """Whether `user`'s roles carry any right on the records of `app_label`."""
    return role_grants_in_app(user, app_label)
