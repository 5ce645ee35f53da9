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

from partners.admin import AccessRightsMixin
from projects import access
from projects.results import access as results_access
from projects.risk import access as risk_access

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
