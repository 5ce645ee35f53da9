"""The admin asks the access modules, and only them: for every role and every admin page
of the pool, partners, results and risk, whether the page opens is what
`projects.access` (with the results and risk access modules) answers. Django permission
rows given outside the roles change nothing."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from projects import access
from projects.results import access as results_access
from projects.risk import access as risk_access
from registry.admin import AccessRightsMixin

ROLES = ("officer", "reviewer", "manager", "admin")


# The admin pages of the domain apps: every model whose admin takes its rights from the
# access modules.
def _domain_admins():
    for model in apps.get_models():
        if model._meta.app_label not in ("partners", "projects"):
            continue
        try:
            model_admin = admin.site.get_model_admin(model)
        except NotRegistered:
            continue
        yield model._meta.label_lower, model_admin


MODELS = sorted(label for label, _admin in _domain_admins())

# Add rules that the model's own access rule decides (on top of, or instead of, the
# role's right on the model), as the admin classes document them.
ADD_RULES = {
    "projects.project": lambda user: (
        access.can_use_model(user, "add", _model("projects.project"))
        and access.can_create_project(user)
    ),
    "projects.supportdecision": lambda user: (
        access.can_use_model(user, "add", _model("projects.supportdecision"))
        and access.can_decide(user)
    ),
    "projects.countryrisk": risk_access.can_keep_country_risks,
    "projects.standardindicator": results_access.can_manage_standard_indicators,
    # Written by the workflow and the warning rules only, never added by hand.
    "projects.statuschange": lambda user: False,
    "projects.warning": lambda user: False,
    "partners.webhookendpoint": lambda user: False,
}
VIEW_RULES = {
    # The library is read by every member of the office.
    "projects.standardindicator": access.is_staff_member,
}


def _model(label):
    return apps.get_model(label)


def expected_view(user, label) -> bool:
    rule = VIEW_RULES.get(label)
    if rule is not None:
        return rule(user)
    return access.can_use_model(user, "view", _model(label))


def expected_add(user, label) -> bool:
    rule = ADD_RULES.get(label)
    if rule is not None:
        return rule(user)
    return access.can_use_model(user, "add", _model(label))


@pytest.fixture
def role_users(officer, reviewer, manager, admin_user):
    return {"officer": officer, "reviewer": reviewer, "manager": manager, "admin": admin_user}


def _fresh(user):
    # The roles are cached on the user object; the client logs in its own copy.
    return type(user).objects.get(pk=user.pk)


def test_every_domain_admin_takes_its_rights_from_access():
    assert all(isinstance(model_admin, AccessRightsMixin) for _l, model_admin in _domain_admins())
    assert "projects.project" in MODELS
    assert "partners.partner" in MODELS
    assert "projects.countryrisk" in MODELS
    assert "projects.indicator" in MODELS


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("label", MODELS)
def test_changelist_and_add_pages_answer_as_access_does(client, role_users, role, label):
    user = role_users[role]
    client.force_login(user)
    app_label, model_name = label.split(".")
    changelist = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert changelist.status_code == (200 if expected_view(_fresh(user), label) else 403)
    add = client.get(reverse(f"admin:{app_label}_{model_name}_add"))
    assert add.status_code == (200 if expected_add(_fresh(user), label) else 403)


@pytest.mark.parametrize("role", ROLES)
def test_admin_index_lists_the_apps_access_grants(client, role_users, role):
    user = role_users[role]
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    listed = {app["app_label"] for app in response.context["app_list"]}
    for app_label in ("partners", "projects"):
        assert (app_label in listed) == access.can_use_app(_fresh(user), app_label)


def test_a_permission_given_outside_the_roles_opens_nothing(client, reviewer):
    # A reviewer's role does not add tags; a permission row on the user changes nothing.
    reviewer.user_permissions.add(Permission.objects.get(codename="add_tag"))
    client.force_login(reviewer)
    assert client.get(reverse("admin:projects_tag_add")).status_code == 403


def test_the_roles_table_decides_not_the_group_rows(client, officer):
    # The officer group's permission rows emptied: the officer's rights stay the role's.
    Group.objects.get(name="officer").permissions.clear()
    client.force_login(officer)
    assert client.get(reverse("admin:projects_project_changelist")).status_code == 200
    assert client.get(reverse("admin:projects_project_add")).status_code == 200


def test_the_unchecked_workflow_permissions_are_gone(db):
    assert not Permission.objects.filter(codename__in=["review_project", "decide_project"]).exists()


def test_a_membership_is_ended_only_by_administrators(client, officer, manager, admin_user):
    membership = officer.memberships.get()
    url = reverse("admin:partners_membership_delete", args=[membership.pk])
    client.force_login(manager)
    assert client.get(url).status_code == 403
    client.force_login(admin_user)
    assert client.get(url).status_code == 200


# --- Reference data, tokens and the admins other packages register ----------------------

REGISTRY_MODELS = [
    "registry.country",
    "registry.countrygroup",
    "registry.sector",
    "registry.apitoken",
]
# Registered by other packages: the roles grant nothing on them, so administrators only.
OTHER_MODELS = [
    "auth.group",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
    "django_tasks_database.dbtaskresult",
]


@pytest.fixture
def every_role(role_users, partner_user):
    return {**role_users, "partner": partner_user}


@pytest.fixture
def a_token(officer):
    from registry.authentication import issue_token

    return issue_token(user=officer, name="sync")[0]


def _object_of(label, token):
    return {
        "registry.country": "LA",
        "registry.countrygroup": lambda: _model(label).objects.get(code="asean").pk,
        "registry.sector": lambda: _model(label).objects.get(code="logistics").pk,
        "registry.apitoken": lambda: token.pk,
    }[label]


def _pages(label, token) -> dict[str, str]:
    app_label, model_name = label.split(".")
    key = _object_of(label, token)
    key = key() if callable(key) else key
    return {
        "view": reverse(f"admin:{app_label}_{model_name}_changelist"),
        "add": reverse(f"admin:{app_label}_{model_name}_add"),
        "change": reverse(f"admin:{app_label}_{model_name}_change", args=[key]),
        "delete": reverse(f"admin:{app_label}_{model_name}_delete", args=[key]),
    }


@pytest.mark.parametrize("role", [*ROLES, "partner"])
@pytest.mark.parametrize("label", REGISTRY_MODELS)
def test_reference_and_token_pages_answer_as_the_roles_do(client, every_role, a_token, role, label):
    user = every_role[role]
    client.force_login(user)
    model = _model(label)
    for action, url in _pages(label, a_token).items():
        expected = access.can_use_model(_fresh(user), action, model)
        if label == "registry.apitoken" and action in ("add", "delete"):
            expected = False  # issued by a command, revoked rather than deleted
        response = client.get(url)
        if (
            action == "change"
            and not expected
            and access.can_use_model(_fresh(user), "view", model)
        ):
            # The change page opens read-only for a user who may only view.
            assert response.status_code == 200, (label, action)
            assert not response.context["has_change_permission"], (label, action)
        else:
            assert response.status_code == (200 if expected else 403), (label, action)


def test_the_roles_grant_what_the_office_expects(officer, reviewer, manager, partner_user):
    country, group, token = (_model(x) for x in ("registry.country", "registry.countrygroup",
                                                  "registry.apitoken"))  # fmt: skip
    for staff in (officer, reviewer, manager):
        assert access.can_use_model(staff, "view", country)
        assert not access.can_use_model(staff, "change", country)
        assert not access.can_use_model(staff, "view", token)
    assert access.can_use_model(manager, "change", group)
    assert not access.can_use_model(officer, "change", group)
    assert not access.can_use_model(partner_user, "view", country)


@pytest.mark.parametrize("role", [*ROLES, "partner"])
@pytest.mark.parametrize("label", OTHER_MODELS)
def test_other_packages_admins_open_to_administrators_only(client, every_role, role, label):
    client.force_login(every_role[role])
    app_label, model_name = label.split(".")
    response = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert response.status_code == (200 if role == "admin" else 403)


def test_other_packages_keep_their_own_refusals(client, admin_user):
    # The lockout log is written by logins only: not even an administrator adds to it.
    client.force_login(admin_user)
    assert client.get(reverse("admin:axes_accessattempt_add")).status_code == 403


STRAY = [
    "registry.view_country",
    "registry.change_country",
    "registry.delete_country",
    "registry.add_sector",
    "registry.change_countrygroup",
    "registry.view_apitoken",
    "registry.change_apitoken",
    "auth.view_group",
    "auth.change_group",
    "auth.view_user",
    "axes.view_accessattempt",
    "django_tasks_database.view_dbtaskresult",
]


def _grant(user, names):
    for name in names:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def test_permission_rows_without_a_role_open_nothing(client, db, a_token):
    """A staff account with no role but a set of Django permission rows (given by hand, or
    left from before the roles) gets no page of the admin."""
    from tests.conftest import make_user

    stray = make_user("no-role", None)
    _grant(stray, STRAY)
    stray = _fresh(stray)
    # Django itself would let this user in: the rows are really there.
    assert stray.has_perm("registry.change_country") and stray.has_perm("auth.change_group")
    client.force_login(stray)
    for label in REGISTRY_MODELS:
        for url in _pages(label, a_token).values():
            assert client.get(url).status_code == 403, url
    for label in OTHER_MODELS:
        app_label, model_name = label.split(".")
        url = reverse(f"admin:{app_label}_{model_name}_changelist")
        assert client.get(url).status_code == 403, url
    assert (
        client.get(
            reverse("admin:auth_group_change", args=[Group.objects.get(name="manager").pk])
        ).status_code
        == 403
    )
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    # Only the user's own background jobs (`registry.jobs.admin`: none for this user).
    assert [app["app_label"] for app in index.context["app_list"]] == ["jobs"]


def test_permission_rows_add_nothing_to_a_role(client, manager, a_token):
    _grant(manager, ["registry.add_sector", "registry.delete_country", "registry.view_apitoken",
                     "auth.change_group"])  # fmt: skip
    client.force_login(manager)
    assert client.get(reverse("admin:registry_sector_add")).status_code == 403
    assert client.get(reverse("admin:registry_country_delete", args=["LA"])).status_code == 403
    assert client.get(reverse("admin:registry_apitoken_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    # What the role grants still opens.
    assert client.get(reverse("admin:registry_countrygroup_add")).status_code == 200
