"""Reviews, support decisions and progress updates: who may write them, when, and what
is refused (with data left unchanged)."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from projects import services, workflow
from projects.errors import InvalidData, NotAllowed, TransitionNotAllowed
from projects.models import ProgressUpdate, Project, Review, Status, SupportDecision
from registry.roles import REVIEWER
from tests import factories
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("fast_password_hasher", "english")

SCORES = {
    "strategic_fit": 5,
    "supply_chain_linkage": 4,
    "feasibility": 3,
    "partner_capacity": 3,
    "regional_balance": 2,
    "risk": 4,
}


def in_status(project, status, screening_round=1):
    Project.objects.filter(pk=project.pk).update(status=status, screening_round=screening_round)
    project.refresh_from_db()
    return project


def review(project, reviewer, **extra):
    return services.review_record(
        project=project,
        reviewer=reviewer,
        scores=extra.pop("scores", SCORES),
        recommendation=extra.pop("recommendation", "select"),
        conflict_declaration=extra.pop("conflict_declaration", "none"),
        conflict_note=extra.pop("conflict_note", ""),
        comment=extra.pop("comment", "供应链联动明显"),
    )


# --- Reviews ----------------------------------------------------------------------------


def test_review_is_recorded_with_weighted_score(project, reviewer):
    project = in_status(project, Status.SCREENING, screening_round=2)
    result = review(project, reviewer)
    # (5*3 + 4*3 + 3*2 + 3*2 + 2*1 + 4*1) / 12 = 45 / 12 = 3.75
    assert result.weighted_score == Decimal("3.75")
    assert (result.round, result.reviewer, result.recommendation) == (2, reviewer, "select")
    assert result.history.get().history_user == reviewer
    assert Project.objects.get(pk=project.pk).version == project.version + 1


@override_settings(REGISTRY_REVIEW_WEIGHTS={"strategic_fit": 1})
def test_weights_come_from_settings(project, reviewer):
    project = in_status(project, Status.SCREENING)
    assert review(project, reviewer).weighted_score == Decimal("5.00")


def test_reviewer_from_the_lead_unit_cannot_review(project, lead_unit):
    insider = make_user("insider", REVIEWER, lead_unit)
    project = in_status(project, Status.SCREENING)
    with pytest.raises(NotAllowed) as error:
        review(project, insider)
    assert "conflict of interest" in str(error.value)
    assert error.value.code == "conflict_of_interest"
    assert not Review.objects.exists()


@pytest.mark.parametrize("actor_name", ["officer", "manager", "partner_user"])
def test_only_reviewers_review(request, project, actor_name):
    project = in_status(project, Status.SCREENING)
    with pytest.raises(NotAllowed) as error:
        review(project, request.getfixturevalue(actor_name))
    assert "Only reviewers" in str(error.value)
    assert not Review.objects.exists()


def test_second_review_in_same_round_refused_but_next_round_allowed(project, reviewer, manager):
    project = in_status(project, Status.SCREENING)
    review(project, reviewer)
    with pytest.raises(InvalidData) as error:
        review(project, reviewer, recommendation="not_select")
    assert "already reviewed this project in screening round 1" in str(error.value)
    assert error.value.errors["reviewer"]
    assert Review.objects.get().recommendation == "select"

    project = in_status(project, Status.SELECTED)
    project = services.project_transition(project=project, actor=manager, action="rescreen")
    assert review(project, reviewer).round == 2


@pytest.mark.parametrize("status", [s for s in Status.values if s != Status.SCREENING], ids=str)
def test_reviews_only_in_screening(project, reviewer, status):
    project = in_status(project, status)
    with pytest.raises(TransitionNotAllowed) as error:
        review(project, reviewer)
    assert str(Status(status).label) in str(error.value)
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("scores", "field"),
    [
        ({**SCORES, "risk": 6}, "risk"),
        ({**SCORES, "risk": 0}, "risk"),
        ({**SCORES, "feasibility": 2.5}, "feasibility"),
        ({**SCORES, "feasibility": True}, "feasibility"),
        ({k: v for k, v in SCORES.items() if k != "regional_balance"}, "regional_balance"),
        ({**SCORES, "charm": 5}, "charm"),
    ],
)
def test_bad_scores_refused(project, reviewer, scores, field):
    project = in_status(project, Status.SCREENING)
    with pytest.raises(InvalidData) as error:
        review(project, reviewer, scores=scores)
    assert field in error.value.errors
    assert not Review.objects.exists()


def test_unknown_recommendation_refused(project, reviewer):
    project = in_status(project, Status.SCREENING)
    with pytest.raises(InvalidData) as error:
        review(project, reviewer, recommendation="maybe")
    assert "recommendation" in error.value.errors


def test_screening_queue_orders_by_weighted_score(lead_unit, reviewer, second_reviewer):
    low, high, unscored = (
        in_status(factories.ProjectFactory(lead_unit=lead_unit), Status.SCREENING) for _ in range(3)
    )
    review(low, reviewer, scores=dict.fromkeys(SCORES, 2))
    review(high, reviewer, scores=dict.fromkeys(SCORES, 5))
    review(high, second_reviewer, scores=dict.fromkeys(SCORES, 4))
    factories.ProjectFactory(lead_unit=lead_unit)  # a draft is not in the queue
    queue = list(workflow.screening_queue(reviewer))
    assert [p.pk for p in queue] == [high.pk, low.pk, unscored.pk]
    assert (queue[0].average_score, queue[0].review_count, queue[0].reviewed_by_me) == (
        Decimal("4.5"),
        2,
        True,
    )
    assert queue[2].average_score is None and not queue[2].reviewed_by_me


# --- Support decisions ------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.SELECTED, Status.IN_PROGRESS])
def test_manager_decides_support(project, manager, status):
    project = in_status(project, status)
    decision = services.support_decide(
        project=project,
        actor=manager,
        kind="funding",
        amount=Decimal("500000"),
        currency="cny",
        conditions="按季度报告进展",
        valid_until=timezone.localdate() + datetime.timedelta(days=365),
    )
    assert (decision.decided_by, decision.currency, decision.decided_on) == (
        manager,
        "CNY",
        timezone.localdate(),
    )
    assert decision.history.get().history_user == manager


@pytest.mark.parametrize("actor_name", ["officer", "reviewer", "partner_user"])
def test_only_managers_decide_support(request, project, actor_name):
    project = in_status(project, Status.SELECTED)
    with pytest.raises(NotAllowed) as error:
        services.support_decide(
            project=project, actor=request.getfixturevalue(actor_name), kind="policy"
        )
    assert "Only managers" in str(error.value)
    assert not SupportDecision.objects.exists()


@pytest.mark.parametrize(
    "status",
    [s for s in Status.values if s not in (Status.SELECTED, Status.IN_PROGRESS)],
    ids=str,
)
def test_support_only_for_selected_or_in_progress(project, manager, status):
    project = in_status(project, status)
    with pytest.raises(TransitionNotAllowed) as error:
        services.support_decide(project=project, actor=manager, kind="promotion")
    assert str(Status(status).label) in str(error.value)
    assert not SupportDecision.objects.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "funding", "amount": Decimal("100")}, "currency"),
        ({"kind": "funding", "amount": "lots", "currency": "CNY"}, "amount"),
        ({"kind": "funding", "amount": Decimal("-1"), "currency": "CNY"}, "amount"),
        ({"kind": "funding", "amount": Decimal("1"), "currency": "XXY"}, "currency"),
        ({"kind": "gift"}, "kind"),
        (
            {
                "kind": "policy",
                "decided_on": datetime.date(2026, 5, 1),
                "valid_until": datetime.date(2026, 4, 30),
            },
            "valid_until",
        ),
    ],
)
def test_bad_support_data_refused(project, manager, values, field):
    project = in_status(project, Status.SELECTED)
    with pytest.raises(InvalidData) as error:
        services.support_decide(project=project, actor=manager, **values)
    assert field in error.value.errors
    assert not SupportDecision.objects.exists()
    assert Project.objects.get(pk=project.pk).version == project.version


# --- Progress updates -------------------------------------------------------------------


def test_partner_posts_on_behalf_of_its_institution(project, partner_user, foreign_partner):
    project = in_status(project, Status.IN_PROGRESS)
    update = services.progress_post(project=project, actor=partner_user, note="首批货物已到万象")
    assert (update.partner, update.author, update.reported_on) == (
        foreign_partner,
        partner_user,
        timezone.localdate(),
    )


def test_officer_posts_without_partner(project, officer):
    project = in_status(project, Status.SELECTED)
    update = services.progress_post(project=project, actor=officer, note="签署合作备忘录")
    assert update.partner is None


def test_partner_of_another_project_cannot_post(lead_unit, partner_user):
    project = in_status(factories.ProjectFactory(lead_unit=lead_unit), Status.IN_PROGRESS)
    with pytest.raises(NotAllowed):
        services.progress_post(project=project, actor=partner_user, note="x")
    assert not ProgressUpdate.objects.exists()


def test_partner_cannot_post_for_another_institution(project, partner_user, other_unit):
    project = in_status(project, Status.IN_PROGRESS)
    with pytest.raises(InvalidData) as error:
        services.progress_post(project=project, actor=partner_user, note="x", partner=other_unit)
    assert "partner" in error.value.errors


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"note": "  "}, "note"),
        (
            {"note": "x", "reported_on": timezone.localdate() + datetime.timedelta(days=2)},
            "reported_on",
        ),
    ],
)
def test_bad_progress_refused(project, officer, values, field):
    project = in_status(project, Status.IN_PROGRESS)
    with pytest.raises(InvalidData) as error:
        services.progress_post(project=project, actor=officer, **values)
    assert field in error.value.errors
    assert not ProgressUpdate.objects.exists()


def test_no_progress_on_a_draft(project, officer):
    with pytest.raises(TransitionNotAllowed):
        services.progress_post(project=project, actor=officer, note="x")


# --- Overdue reviews --------------------------------------------------------------------


def test_overdue_reviews_command(project, lead_unit, capsys):
    today = timezone.localdate()
    Project.objects.filter(pk=project.pk).update(
        status=Status.IN_PROGRESS, next_review_due=today - datetime.timedelta(days=10)
    )
    on_time = factories.ProjectFactory(lead_unit=lead_unit)
    Project.objects.filter(pk=on_time.pk).update(
        status=Status.SELECTED, next_review_due=today + datetime.timedelta(days=1)
    )
    call_command("overdue_reviews")
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"{project.code}\t{project.title}\t{(today - datetime.timedelta(days=10)).isoformat()}\t10"
    ]
