"""The workflow table, enforced by `services.project_transition`.

The matrix tests are generated from `workflow.TRANSITIONS`: a new row in the table gets
its allowed/refused tests without touching this file."""

import datetime
import threading

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test import override_settings
from django.utils import timezone

from projects import services, workflow
from projects.errors import InvalidData, NotAllowed, StaleWrite, TransitionNotAllowed
from projects.models import Project, Status, StatusChange
from registry.roles import MANAGER, OFFICER, REVIEWER
from tests import factories
from tests.conftest import make_user

# Each test actor (a conftest fixture) and the role it holds *for the test project*: the
# officer of another unit and the partner user hold no role that any transition accepts.
ACTORS = {
    "officer": OFFICER,
    "other_officer": None,
    "reviewer": REVIEWER,
    "manager": MANAGER,
    "partner_user": None,
    "admin_user": "superuser",
}
pytestmark = pytest.mark.usefixtures("fast_password_hasher", "english")

REASON = "依据评审意见 / per the panel's advice"


def allowed_actors(transition) -> list[str]:
    return [
        name
        for name, role in ACTORS.items()
        if role == "superuser" or (role is not None and role in transition.roles)
    ]


def expected_target(transition, previous=Status.SELECTED) -> str:
    return previous if transition.target == workflow.PREVIOUS_STATUS else transition.target


def put_in_status(project, status: str) -> Project:
    """Bring a project to `status` with whatever the transitions from there need: a
    screening round with enough reviews, and the suspension that `resume` undoes."""
    Project.objects.filter(pk=project.pk).update(status=status, screening_round=1)
    project.refresh_from_db()
    if status == Status.SCREENING:
        for number in range(2):
            factories.ReviewFactory(
                project=project, reviewer=make_user(f"panel-{number}", REVIEWER)
            )
    if status == Status.SUSPENDED:
        StatusChange.objects.create(
            project=project, action="suspend", from_status=Status.SELECTED, to_status=status
        )
    return project


def snapshot(project) -> dict:
    project = Project.objects.get(pk=project.pk)
    return {
        "row": model_to_dict(project, exclude=["tags"]),
        "status": project.status,
        "version": project.version,
        "status_changes": StatusChange.objects.filter(project=project).count(),
        "history": project.history.count(),
    }


ALLOWED = [
    pytest.param(t.name, source, actor, id=f"{t.name}-{source}-{actor}")
    for t in workflow.TRANSITIONS
    for source in t.sources
    for actor in allowed_actors(t)
]
WRONG_STATE = [
    pytest.param(t.name, status, id=f"{t.name}-{status}")
    for t in workflow.TRANSITIONS
    for status in Status.values
    if status not in t.sources
]
WRONG_ROLE = [
    pytest.param(t.name, actor, id=f"{t.name}-{actor}")
    for t in workflow.TRANSITIONS
    for actor in ACTORS
    if actor not in allowed_actors(t)
]


def test_table_names_exactly_the_issue_actions():
    assert workflow.ACTIONS == (
        "submit",
        "start_screening",
        "select",
        "not_select",
        "start_implementation",
        "complete",
        "suspend",
        "resume",
        "withdraw",
        "return_for_revision",
        "rescreen",
        "archive",
    )
    targets = {t.target for t in workflow.TRANSITIONS} - {workflow.PREVIOUS_STATUS}
    sources = {s for t in workflow.TRANSITIONS for s in t.sources}
    assert targets <= set(Status.values) and sources <= set(Status.values)
    assert {t.name for t in workflow.TRANSITIONS if t.requires_reason} == {
        "not_select",
        "suspend",
        "withdraw",
        "return_for_revision",
        "archive",
    }


@pytest.mark.parametrize(("action", "source", "actor_name"), ALLOWED)
def test_transition_allowed(request, project, action, source, actor_name):
    actor = request.getfixturevalue(actor_name)
    project = put_in_status(project, source)
    before = snapshot(project)
    transition = workflow.get_transition(action)

    result = services.project_transition(project=project, actor=actor, action=action, reason=REASON)

    result.refresh_from_db()
    assert result.status == expected_target(transition)
    assert result.version == before["version"] + 1
    change = StatusChange.objects.filter(project=project).latest("id")
    assert StatusChange.objects.filter(project=project).count() == before["status_changes"] + 1
    assert (change.action, change.from_status, change.to_status, change.actor, change.reason) == (
        action,
        source,
        result.status,
        actor,
        REASON,
    )
    record = result.history.latest()
    assert (record.status, record.history_user) == (result.status, actor)


@pytest.mark.parametrize(("action", "status"), WRONG_STATE)
def test_transition_refused_in_other_states(request, project, action, status):
    transition = workflow.get_transition(action)
    actor = request.getfixturevalue(allowed_actors(transition)[0])
    project = put_in_status(project, status)
    before = snapshot(project)

    with pytest.raises(TransitionNotAllowed) as error:
        services.project_transition(project=project, actor=actor, action=action, reason=REASON)

    message = str(error.value)
    assert str(transition.label) in message
    assert str(Status(status).label) in message
    assert snapshot(project) == before


@pytest.mark.parametrize(("action", "actor_name"), WRONG_ROLE)
def test_transition_refused_for_other_roles(request, project, action, actor_name):
    transition = workflow.get_transition(action)
    actor = request.getfixturevalue(actor_name)
    project = put_in_status(project, transition.sources[0])
    before = snapshot(project)

    with pytest.raises(NotAllowed) as error:
        services.project_transition(project=project, actor=actor, action=action, reason=REASON)

    assert str(transition.label) in str(error.value)
    assert str(error.value).startswith("Only")
    assert snapshot(project) == before


@pytest.mark.parametrize("action", [t.name for t in workflow.TRANSITIONS if t.requires_reason])
def test_reason_is_required(project, admin_user, action):
    transition = workflow.get_transition(action)
    project = put_in_status(project, transition.sources[0])
    before = snapshot(project)
    with pytest.raises(InvalidData) as error:
        services.project_transition(project=project, actor=admin_user, action=action, reason="  ")
    assert "reason" in error.value.errors
    assert snapshot(project) == before


@pytest.mark.parametrize(("status", "actor_name"), [(s, a) for s in Status.values for a in ACTORS])
def test_available_transitions_follow_the_table(request, project, status, actor_name):
    actor = request.getfixturevalue(actor_name)
    project = put_in_status(project, status)
    expected = [
        t.name
        for t in workflow.TRANSITIONS
        if status in t.sources and actor_name in allowed_actors(t)
    ]
    assert [t.name for t in workflow.available_transitions(project, actor)] == expected


def test_transitions_for_role_reads_the_table():
    assert [t.name for t in workflow.transitions_for_role(OFFICER)] == [
        "submit",
        "start_implementation",
        "complete",
        "withdraw",
    ]
    assert [t.name for t in workflow.transitions_for_role(MANAGER, Status.SCREENING)] == [
        "select",
        "not_select",
        "withdraw",
        "return_for_revision",
    ]
    assert workflow.transitions_for_role(REVIEWER) == []


# --- Guards and effects -----------------------------------------------------------------


def test_submit_needs_sector_titles_and_shares(officer, lead_unit):
    project = factories.ProjectFactory(
        lead_unit=lead_unit, title_en="", countries=[("LA", 60), ("TH", "30.5")]
    )
    with pytest.raises(TransitionNotAllowed) as error:
        services.project_transition(project=project, actor=officer, action="submit")
    message = str(error.value)
    assert "Submit needs the English title." in message
    assert "at least one sector" in message
    assert "add up to 90.5%" in message
    project.refresh_from_db()
    assert project.status == Status.DRAFT
    assert not StatusChange.objects.filter(project=project).exists()


def test_select_with_too_few_reviews_is_refused(project, manager, reviewer):
    project = put_in_status(project, Status.SUBMITTED)
    project = services.project_transition(project=project, actor=manager, action="start_screening")
    factories.ReviewFactory(project=project, reviewer=reviewer)
    with pytest.raises(TransitionNotAllowed) as error:
        services.project_transition(project=project, actor=manager, action="select")
    assert str(error.value) == ("Select needs 2 reviews in screening round 2; this project has 1.")
    assert Project.objects.get(pk=project.pk).status == Status.SCREENING


@override_settings(REGISTRY_MIN_REVIEWS=1)
def test_min_reviews_setting_is_read(project, manager, reviewer):
    project = put_in_status(project, Status.SELECTED)
    project = services.project_transition(project=project, actor=manager, action="rescreen")
    # Reviews of the earlier round do not count for the new one.
    with pytest.raises(TransitionNotAllowed):
        services.project_transition(project=project, actor=manager, action="select")
    factories.ReviewFactory(project=project, reviewer=reviewer)
    project = services.project_transition(project=project, actor=manager, action="select")
    assert project.status == Status.SELECTED


@override_settings(REGISTRY_REVIEW_INTERVAL_MONTHS=6)
def test_screening_round_and_next_review(project, manager):
    project = put_in_status(project, Status.SCREENING)
    project = services.project_transition(project=project, actor=manager, action="select")
    today = timezone.localdate()
    assert project.next_review_due == workflow.add_months(today, 6)
    assert project.next_review_due > today
    project = services.project_transition(project=project, actor=manager, action="rescreen")
    assert (project.status, project.screening_round) == (Status.SCREENING, 2)


def test_add_months_clamps_to_month_end():
    assert workflow.add_months(datetime.date(2026, 8, 31), 6) == datetime.date(2027, 2, 28)
    assert workflow.add_months(datetime.date(2026, 11, 15), 12) == datetime.date(2027, 11, 15)


def test_resume_returns_to_the_status_before_suspension(project, officer, manager):
    project = put_in_status(project, Status.SELECTED)
    project = services.project_transition(
        project=project, actor=officer, action="start_implementation"
    )
    assert project.actual_start == timezone.localdate()
    project = services.project_transition(
        project=project, actor=manager, action="suspend", reason="partner reorganised"
    )
    project = services.project_transition(project=project, actor=manager, action="resume")
    assert project.status == Status.IN_PROGRESS


def test_stale_version_and_unknown_action(project, officer):
    with pytest.raises(StaleWrite):
        services.project_transition(
            project=project, actor=officer, action="submit", expected_version=project.version - 1
        )
    with pytest.raises(InvalidData) as error:
        services.project_transition(project=project, actor=officer, action="approve")
    assert "action" in error.value.errors
    assert Project.objects.get(pk=project.pk).status == Status.DRAFT


def test_notification_runs_only_after_commit(project, officer, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, project, status_change, transition, **kwargs):
        received.append((project.code, transition.name, status_change.to_status))

    workflow.transition_committed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.project_transition(project=project, actor=officer, action="submit")
            assert received == []
        assert len(callbacks) == 1
        assert received == [(project.code, "submit", Status.SUBMITTED)]
    finally:
        workflow.transition_committed.disconnect(receiver)


def test_transition_query_count(project, officer, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        services.project_transition(project=project, actor=officer, action="submit")


def test_workflow_table_command(capsys):
    from django.core.management import call_command

    call_command("workflow_table")
    out = capsys.readouterr().out
    assert out.count("\n| `") == len(workflow.TRANSITIONS)
    assert "| `select` | `screening` | `selected` | manager |" in out


# --- Concurrency (PostgreSQL) ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_select_and_not_select(on_postgres, committed_reference_data):
    lead = factories.PartnerFactory()
    manager = make_user("manager", MANAGER)
    other_manager = make_user("manager-2", MANAGER)
    project = factories.ProjectFactory(
        lead_unit=lead, countries=[("LA", 100)], sectors=[("logistics-rail", 100)]
    )
    project = put_in_status(project, Status.SCREENING)
    barrier = threading.Barrier(2, timeout=10)
    outcomes = {}

    def attempt(action, user_pk):
        from django.contrib.auth import get_user_model
        from django.utils import translation

        # A thread starts with the default language; the messages are asserted in English.
        translation.activate("en")
        try:
            actor = get_user_model().objects.get(pk=user_pk)
            target = Project.objects.get(pk=project.pk)
            barrier.wait()
            services.project_transition(project=target, actor=actor, action=action, reason=REASON)
            outcomes[action] = "ok"
        except TransitionNotAllowed as error:
            outcomes[action] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=("select", manager.pk)),
        threading.Thread(target=attempt, args=("not_select", other_manager.pk)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(type(o).__name__ if o != "ok" else o for o in outcomes.values()) == [
        "TransitionNotAllowed",
        "ok",
    ]
    winner = next(action for action, outcome in outcomes.items() if outcome == "ok")
    loser_error = next(o for o in outcomes.values() if o != "ok")
    project.refresh_from_db()
    assert project.status == {"select": Status.SELECTED, "not_select": Status.NOT_SELECTED}[winner]
    assert "not possible for a project that is" in str(loser_error)
    changes = list(StatusChange.objects.filter(project=project).exclude(action="suspend"))
    assert [(c.action, c.from_status, c.to_status) for c in changes] == [
        (winner, Status.SCREENING, project.status)
    ]
