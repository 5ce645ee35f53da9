"""The merged project history: exactly the actions taken, in order, with actor and old
and new values, in a fixed number of queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import services
from projects.history import project_history
from registry.models import Country, Sector
from tests.test_reviews_support import SCORES

pytestmark = pytest.mark.usefixtures("fast_password_hasher", "english")


def rail():
    return Sector.objects.get(code="logistics-rail").pk


def build_story(officer, manager, reviewer, second_reviewer, lead_unit, foreign_partner):
    project = services.project_create(
        actor=officer,
        data={
            "title_zh": "中老铁路冷链班列",
            "title_en": "Cold-chain trains",
            "lead_unit": lead_unit,
        },
        countries=[services.CountryShare("LA", Decimal(100))],
        sectors=[services.SectorShare(rail(), Decimal(100))],
        participations=[services.PartnerRole(foreign_partner.pk, "partner")],
    )
    project, _ = services.project_update(
        actor=officer,
        project=project,
        data={"title_zh": "中老铁路冷链专列"},
        countries=[
            services.CountryShare("LA", Decimal(70)),
            services.CountryShare("TH", Decimal(30)),
        ],
        tags=["RCEP"],
    )
    project = services.project_transition(project=project, actor=officer, action="submit")
    project = services.project_transition(project=project, actor=manager, action="start_screening")
    services.review_record(
        project=project,
        reviewer=reviewer,
        scores=SCORES,
        recommendation="select",
        conflict_declaration="none",
    )
    services.review_record(
        project=project,
        reviewer=second_reviewer,
        scores=SCORES,
        recommendation="revise",
        conflict_declaration="none",
    )
    project = services.project_transition(project=project, actor=manager, action="select")
    services.support_decide(
        project=project, actor=manager, kind="funding", amount=Decimal("200000"), currency="CNY"
    )
    project = services.project_transition(
        project=project, actor=manager, action="suspend", reason="合作方重组"
    )
    return project


@pytest.fixture
def story(officer, manager, reviewer, second_reviewer, lead_unit, foreign_partner):
    return build_story(officer, manager, reviewer, second_reviewer, lead_unit, foreign_partner)


def test_history_is_exactly_the_sequence_of_actions(story):
    history = project_history(story)
    assert [(e["kind"], e["model"], e["action"], e["actor"]) for e in history] == [
        ("change", "project", "created", "officer"),
        ("change", "projectcountry", "created", "officer"),
        ("change", "projectsector", "created", "officer"),
        ("change", "participation", "created", "officer"),
        ("change", "projectcountry", "changed", "officer"),
        ("change", "projectcountry", "created", "officer"),
        ("change", "project", "changed", "officer"),
        ("transition", "project", "submit", "officer"),
        ("transition", "project", "start_screening", "manager"),
        ("change", "review", "created", "reviewer"),
        ("change", "review", "created", "reviewer2"),
        ("transition", "project", "select", "manager"),
        ("change", "supportdecision", "created", "manager"),
        ("transition", "project", "suspend", "manager"),
    ]
    times = [e["at"] for e in history]
    assert times == sorted(times)


def test_history_entries_carry_old_and_new_values(story):
    history = project_history(story)
    share_change = history[4]
    assert share_change["object"] == str(Country.objects.get(pk="LA"))
    assert share_change["changes"] == [
        {
            "field": "share",
            "label": "share (%)",
            "old": "100",
            "new": "70",
            "old_display": "100",
            "new_display": "70",
        }
    ]
    update = history[6]
    assert [(c["field"], c["old"], c["new"]) for c in update["changes"]] == [
        ("title_zh", "中老铁路冷链班列", "中老铁路冷链专列"),
        ("tags", [], ["RCEP"]),
    ]
    screening = history[8]
    assert (screening["from_status"], screening["to_status"], screening["reason"]) == (
        "submitted",
        "screening",
        "",
    )
    assert {(c["field"], c["old"], c["new"]) for c in screening["changes"]} == {
        ("status", "submitted", "screening"),
        ("screening_round", 0, 1),
    }
    select = history[11]
    assert {c["field"] for c in select["changes"]} == {"status", "next_review_due"}
    suspend = history[-1]
    assert (suspend["from_status"], suspend["to_status"], suspend["reason"]) == (
        "selected",
        "suspended",
        "合作方重组",
    )
    created = history[0]
    assert ("lead_unit", None, story.lead_unit_id) in {
        (c["field"], c["old"], c["new"]) for c in created["changes"]
    }
    lead = next(c for c in created["changes"] if c["field"] == "lead_unit")
    assert lead["new_display"] == str(story.lead_unit)


def test_partner_view_leaves_out_reviews_decisions_and_internal_fields(story):
    models = {e["model"] for e in project_history(story, partner_view=True)}
    assert "review" not in models and "supportdecision" not in models


def test_history_runs_a_fixed_number_of_queries(
    story, officer, manager, reviewer, second_reviewer, lead_unit, foreign_partner
):
    with CaptureQueriesContext(connection) as short:
        project_history(story)
    # A second, identical story on another project doubles nothing for the first one,
    # and a longer history of the same project costs the same number of queries.
    services.project_transition(project=story, actor=manager, action="resume")
    services.progress_post(project=story, actor=officer, note="进展顺利")
    services.project_transition(project=story, actor=manager, action="suspend", reason="again")
    with CaptureQueriesContext(connection) as long:
        history = project_history(story)
    assert len(long) == len(short) <= 14
    assert history[-1]["action"] == "suspend"
    assert history[-2]["model"] == "progressupdate"


def test_history_of_a_deleted_child_row(story, officer):
    # The story ends suspended, where the editable-fields table no longer lets the
    # countries change; the row is removed as the service would remove it, by its user.
    row = story.project_countries.get(country_id="TH")
    row._history_user = officer
    row.delete()
    history = project_history(story)
    deleted = [e for e in history if e["action"] == "deleted"]
    assert len(deleted) == 1
    assert deleted[0]["object"] == str(Country.objects.get(pk="TH"))
    assert ("share", "30", None) in {
        (c["field"], c["old"], c["new"]) for c in deleted[0]["changes"]
    }
