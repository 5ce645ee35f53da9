"""The workflow in the admin: buttons, confirmation pages, bulk transitions, the screening
queue, the history on the project page, and the records nobody may delete.

Tests marked by the `project_admin` fixture need `projects.admin.project.ProjectAdmin` (which
mixes in `WorkflowAdminMixin`) to be registered; they skip where it is not."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import projects.admin.workflow  # noqa: F401  (registers the review, decision… admins)
from projects import services, workflow
from projects.models import Project, Review, Status, StatusChange, SupportDecision
from registry.roles import REVIEWER
from tests import factories
from tests.conftest import make_user
from tests.test_workflow import ACTORS, allowed_actors, put_in_status

pytestmark = pytest.mark.usefixtures("fast_password_hasher", "english", "plain_static_storage")


@pytest.fixture
def client():
    """Admin pages in English (LocaleMiddleware follows Accept-Language)."""
    return Client(headers={"accept-language": "en"})


@pytest.fixture
def project_admin():
    """The workflow parts are mixed into the registered project admin."""
    from projects.admin.workflow import WorkflowAdminMixin

    assert isinstance(admin.site._registry[Project], WorkflowAdminMixin)


def change_url(project):
    return reverse("admin:projects_project_change", args=[project.pk])


def transition_url(project, action):
    return reverse("admin:projects_project_transition", args=[project.pk, action])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def buttons(response) -> list[str]:
    return re.findall(r'class="workflow-transition" data-action="([a-z_]+)"', response.text)


# --- Buttons -----------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "actor_name"), [(s, a) for s in Status.values for a in ACTORS])
def test_buttons_are_exactly_the_transitions_the_table_allows(
    request, client, project_admin, project, status, actor_name
):
    actor = request.getfixturevalue(actor_name)
    project = put_in_status(project, status)
    client.force_login(actor)
    response = client.get(change_url(project), follow=True)
    expected = [
        t.name
        for t in workflow.TRANSITIONS
        if status in t.sources and actor_name in allowed_actors(t)
    ]
    assert buttons(response) == expected
    assert buttons(response) == [t.name for t in workflow.available_transitions(project, actor)]


def test_guard_failing_hides_the_button(client, project_admin, project, manager, reviewer):
    project = put_in_status(project, Status.SUBMITTED)
    project = services.project_transition(project=project, actor=manager, action="start_screening")
    factories.ReviewFactory(project=project, reviewer=reviewer)
    client.force_login(manager)
    assert buttons(client.get(change_url(project))) == [
        "not_select",
        "withdraw",
        "return_for_revision",
    ]


# --- Confirmation pages ------------------------------------------------------------------


def test_confirmation_asks_for_reason_and_takes_the_transition(
    client, project_admin, project, manager
):
    project = put_in_status(project, Status.SCREENING)
    client.force_login(manager)
    page = client.get(transition_url(project, "not_select"))
    assert page.status_code == 200 and 'name="reason"' in page.text

    refused = client.post(transition_url(project, "not_select"), {"version": project.version})
    assert refused.status_code == 200 and "This field is required" in refused.text
    assert Project.objects.get(pk=project.pk).status == Status.SCREENING

    done = client.post(
        transition_url(project, "not_select"),
        {"reason": "与走廊重点不符", "version": project.version},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == change_url(project)
    assert any("now not selected" in m for m in messages_of(done))
    change = StatusChange.objects.get(project=project, action="not_select")
    assert (change.actor, change.reason) == (manager, "与走廊重点不符")


def test_domain_error_is_shown_as_message(client, project_admin, project, manager, reviewer):
    project = put_in_status(project, Status.SCREENING)
    Review.objects.filter(project=project).exclude(reviewer__username="panel-0").delete()
    client.force_login(manager)
    response = client.post(
        transition_url(project, "select"), {"version": project.version}, follow=True
    )
    assert "Select needs 2 reviews in screening round 1; this project has 1." in messages_of(
        response
    )
    assert Project.objects.get(pk=project.pk).status == Status.SCREENING
    assert not StatusChange.objects.filter(project=project).exists()


def test_stale_confirmation_is_refused(client, project_admin, project, officer, manager):
    client.force_login(officer)
    old_version = project.version
    services.project_update(actor=officer, project=project, data={"title_en": "Renamed"})
    response = client.post(transition_url(project, "submit"), {"version": old_version}, follow=True)
    assert any("changed by someone else" in m for m in messages_of(response))
    assert Project.objects.get(pk=project.pk).status == Status.DRAFT


def test_confirmation_page_refused_for_wrong_role(client, project_admin, project, reviewer):
    client.force_login(reviewer)
    response = client.get(transition_url(project, "submit"), follow=True)
    assert any("Only an officer of the lead unit may submit" in m for m in messages_of(response))
    response = client.post(transition_url(project, "submit"), {}, follow=True)
    assert Project.objects.get(pk=project.pk).status == Status.DRAFT


# --- Bulk transitions ---------------------------------------------------------------------


def test_bulk_start_screening_reports_each_project(
    client, project_admin, project, lead_unit, manager
):
    submitted = [
        put_in_status(factories.ProjectFactory(lead_unit=lead_unit), Status.SUBMITTED)
        for _ in range(3)
    ]
    selected = [*submitted, project]  # the draft cannot be screened
    changelist = reverse("admin:projects_project_changelist")
    client.force_login(manager)
    ids = [p.pk for p in selected]

    confirm = client.post(
        changelist, {"action": "transition_start_screening", "_selected_action": ids}
    )
    assert confirm.status_code == 200 and 'name="apply"' in confirm.text

    done = client.post(
        changelist,
        {"action": "transition_start_screening", "_selected_action": ids, "apply": "yes"},
        follow=True,
    )
    (message,) = messages_of(done)
    assert message.startswith("Start screening: 3 done (")
    assert all(p.code in message for p in submitted)
    assert f"1 refused — {project.code}: “start screening” is not possible" in message
    assert sorted(Project.objects.filter(pk__in=ids).values_list("status", flat=True)) == [
        Status.DRAFT,
        Status.SCREENING,
        Status.SCREENING,
        Status.SCREENING,
    ]


def test_bulk_action_needing_reason_asks_again_without_one(client, project_admin, project, manager):
    project = put_in_status(project, Status.SCREENING)
    client.force_login(manager)
    response = client.post(
        reverse("admin:projects_project_changelist"),
        {"action": "transition_not_select", "_selected_action": [project.pk], "apply": "yes"},
    )
    assert response.status_code == 200 and "This field is required" in response.text
    assert Project.objects.get(pk=project.pk).status == Status.SCREENING


def test_bulk_actions_offered_follow_the_roles(client, project_admin, project, officer):
    client.force_login(officer)
    response = client.get(reverse("admin:projects_project_changelist"))
    offered = re.findall(r'<option value="transition_([a-z_]+)"', response.text)
    assert offered == [t.name for t in workflow.transitions_for_user(officer)]
    assert "delete_selected" not in response.text


# --- Nothing is deleted -------------------------------------------------------------------


def test_project_cannot_be_deleted_through_the_admin(client, project_admin, project, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:projects_project_delete", args=[project.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"post": "yes"}).status_code == 403
    client.post(
        reverse("admin:projects_project_changelist"),
        {"action": "delete_selected", "_selected_action": [project.pk], "post": "yes"},
    )
    assert Project.objects.filter(pk=project.pk).exists()


def test_status_change_cannot_be_added_changed_or_deleted(client, project, officer, admin_user):
    services.project_transition(project=project, actor=officer, action="submit")
    change = StatusChange.objects.get(project=project)
    client.force_login(admin_user)
    assert client.get(reverse("admin:projects_statuschange_add")).status_code == 403
    assert (
        client.get(reverse("admin:projects_statuschange_delete", args=[change.pk])).status_code
        == 403
    )
    view = client.get(reverse("admin:projects_statuschange_change", args=[change.pk]))
    assert view.status_code == 200 and 'name="_save"' not in view.text
    client.post(
        reverse("admin:projects_statuschange_change", args=[change.pk]),
        {"reason": "rewritten", "to_status": "archived"},
    )
    client.post(
        reverse("admin:projects_statuschange_changelist"),
        {"action": "delete_selected", "_selected_action": [change.pk], "post": "yes"},
    )
    change.refresh_from_db()
    assert (change.reason, change.to_status) == ("", Status.SUBMITTED)


def test_status_changes_listed_only_for_visible_projects(client, project, officer, other_officer):
    services.project_transition(project=project, actor=officer, action="submit")
    client.force_login(other_officer)
    response = client.get(reverse("admin:projects_statuschange_changelist"))
    assert response.status_code == 200 and project.code not in response.text
    client.force_login(officer)
    assert project.code in client.get(reverse("admin:projects_statuschange_changelist")).text


# --- Reviews, decisions and progress through the admin -------------------------------------


def review_data(project, **extra):
    return {
        "project": project.pk,
        "strategic_fit": 5,
        "supply_chain_linkage": 4,
        "feasibility": 3,
        "partner_capacity": 3,
        "regional_balance": 2,
        "risk": 4,
        "recommendation": "select",
        "comment": "",
        "conflict_declaration": "none",
        **extra,
    }


def test_reviewer_records_review_once(client, project, reviewer):
    project = put_in_status(project, Status.SCREENING)
    client.force_login(reviewer)
    url = reverse("admin:projects_review_add")
    assert client.get(f"{url}?project={project.pk}").status_code == 200
    response = client.post(url, review_data(project))
    assert response.status_code == 302
    review = Review.objects.get(project=project, reviewer=reviewer)
    assert review.weighted_score == Decimal("3.75")

    again = client.post(url, review_data(project, recommendation="not_select"))
    assert again.status_code == 200
    assert "already reviewed this project in screening round 1" in again.text
    assert Review.objects.filter(reviewer=reviewer).count() == 1

    # Read-only afterwards.
    client.post(
        reverse("admin:projects_review_change", args=[review.pk]), review_data(project, risk=1)
    )
    review.refresh_from_db()
    assert review.risk == 4


def test_lead_unit_reviewer_refused_in_admin(client, project, lead_unit):
    insider = make_user("insider", REVIEWER, lead_unit)
    project = put_in_status(project, Status.SCREENING)
    client.force_login(insider)
    response = client.post(reverse("admin:projects_review_add"), review_data(project))
    assert response.status_code == 200 and "conflict of interest" in response.text
    assert not Review.objects.filter(reviewer=insider).exists()


def test_only_managers_add_support_decisions(client, project, manager, officer):
    project = put_in_status(project, Status.SELECTED)
    url = reverse("admin:projects_supportdecision_add")
    client.force_login(officer)
    assert client.get(url).status_code == 403
    client.force_login(manager)
    data = {
        "project": project.pk,
        "kind": "funding",
        "amount": "1000",
        "currency": "",
        "decided_on": timezone.localdate().isoformat(),
    }
    response = client.post(url, data)
    assert response.status_code == 200 and "Give the currency of the amount." in response.text
    assert client.post(url, {**data, "currency": "CNY"}).status_code == 302
    assert SupportDecision.objects.get().decided_by == manager


def test_progress_update_through_admin(client, project, officer):
    project = put_in_status(project, Status.IN_PROGRESS)
    client.force_login(officer)
    response = client.post(
        reverse("admin:projects_progressupdate_add"),
        {
            "project": project.pk,
            "reported_on": timezone.localdate().isoformat(),
            "note": "首列冷链班列发车",
        },
    )
    assert response.status_code == 302
    assert project.progress_updates.get().author == officer


# --- Screening queue, overdue filter, history ------------------------------------------


def test_screening_queue_for_reviewers(client, project_admin, lead_unit, reviewer, officer):
    strong, weak = (
        put_in_status(factories.ProjectFactory(lead_unit=lead_unit), Status.SCREENING)
        for _ in range(2)
    )
    Review.objects.filter(project=weak).update(weighted_score=Decimal("2.00"))
    Review.objects.filter(project=strong).update(weighted_score=Decimal("4.50"))
    url = reverse("admin:projects_project_screening_queue")
    client.force_login(reviewer)
    response = client.get(url)
    assert response.status_code == 200
    assert re.findall(r'data-code="(P\d+)"', response.text) == [strong.code, weak.code]
    assert f"{reverse('admin:projects_review_add')}?project={strong.pk}" in response.text
    client.force_login(officer)
    assert client.get(url).status_code == 403


def test_review_overdue_filter(client, project_admin, project, lead_unit, manager):
    today = timezone.localdate()
    Project.objects.filter(pk=project.pk).update(
        status=Status.SELECTED, next_review_due=today - datetime.timedelta(days=3)
    )
    fresh = factories.ProjectFactory(lead_unit=lead_unit)
    Project.objects.filter(pk=fresh.pk).update(
        status=Status.SELECTED, next_review_due=today + datetime.timedelta(days=300)
    )
    client.force_login(manager)
    response = client.get(reverse("admin:projects_project_changelist") + "?review=overdue")
    assert project.code in response.text and fresh.code not in response.text


def test_history_on_the_change_page(client, project_admin, project, officer):
    services.project_transition(project=project, actor=officer, action="submit")
    client.force_login(officer)
    response = client.get(change_url(project))
    assert 'id="project-history"' in response.text
    assert 'class="history-transition" data-action="submit"' in response.text
