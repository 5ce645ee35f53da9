"""OWASP API3:2023 (broken object property level authorization): the partner projection
of a project's history (README, "Partner history"), checked field by field: status
changes with a reason only where the deciding user ticked "visible to partners"; changes
of partner-visible fields with display names, never ids; the office as the actor, never a
staff username; nothing of reviews, support decisions, internal fields, `created_by` or
institutions the partner cannot see."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from projects import services
from projects.history import PARTNER_PROJECT_FIELDS, office_name
from projects.models import Participation, Project, Review
from tests import factories

pytestmark = pytest.mark.django_db

ENTRY_KEYS = {
    "at",
    "actor",
    "kind",
    "model",
    "object",
    "action",
    "changes",
    "from_status",
    "to_status",
    "reason",
}


@pytest.fixture
def story(officer, manager, reviewer, second_reviewer, project, foreign_partner, lead_unit):
    """A project that went through the pool, with everything a partner must not read."""
    removed = factories.PartnerFactory(country_id="TH", name_en="Removed Bangkok Holdings")
    services.project_update(
        actor=officer,
        project=project,
        data={"internal_notes": "INTERNAL-9", "risk_notes": "RISK-9", "summary_en": "Cold"},
        participations=[
            services.PartnerRole(foreign_partner.pk, "partner"),
            services.PartnerRole(removed.pk, "funding"),
        ],
        tags=["冷链"],
    )
    services.project_update(
        actor=officer,
        project=project,
        data={"estimated_value": Decimal("2000000")},
        participations=[services.PartnerRole(foreign_partner.pk, "partner")],
    )
    services.project_transition(project=project, actor=officer, action="submit")
    services.project_transition(
        project=project,
        actor=manager,
        action="return_for_revision",
        reason="INTERNAL-REASON: the value looks inflated",
    )
    services.project_transition(project=project, actor=officer, action="submit")
    services.project_transition(project=project, actor=manager, action="start_screening")
    project.refresh_from_db()
    for person in (reviewer, second_reviewer):
        factories.ReviewFactory(project=project, reviewer=person, comment="REVIEW-COMMENT")
    services.project_transition(project=project, actor=manager, action="select")
    services.support_decide(
        project=project, actor=manager, kind="funding", conditions="CONDITIONS-9"
    )
    services.project_transition(
        project=project,
        actor=manager,
        action="suspend",
        reason="Waiting for the customs agreement.",
        reason_visible_to_partners=True,
    )
    project.refresh_from_db()
    return project, removed


def _partner_history(api_client, partner_user, project):
    response = api_client(partner_user).get(
        f"/api/v1/projects/{project.code}/history/", {"page_size": 100}
    )
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_partner_history_field_by_field(
    api_client, partner_user, story, officer, manager, foreign_partner
):
    project, removed = story
    entries = _partner_history(api_client, partner_user, project)
    text = str(entries)
    # Never: staff usernames, internal values, reviews, support decisions, hidden names, ids.
    for secret in (
        "officer",
        "manager",
        "reviewer",
        "INTERNAL-9",
        "RISK-9",
        "INTERNAL-REASON",
        "REVIEW-COMMENT",
        "CONDITIONS-9",
        removed.name_en,
        removed.name_zh,
    ):
        assert secret not in text, secret
    for entry in entries:
        assert set(entry) == ENTRY_KEYS
        assert entry["actor"] == office_name()
        assert entry["model"] not in {"review", "supportdecision"}
        for change in entry["changes"]:
            assert change["field"] in {
                *PARTNER_PROJECT_FIELDS,
                "tags",
                "country",
                "sector",
                "share",
                "partner",
                "role",
                "note",
                "reported_on",
            }, change
            assert change["field"] not in {"created_by", "internal_notes", "risk_notes"}

    transitions = [e for e in entries if e["kind"] == "transition"]
    assert [(e["action"], e["from_status"], e["to_status"]) for e in transitions] == [
        ("submit", "draft", "submitted"),
        ("return_for_revision", "submitted", "draft"),
        ("submit", "draft", "submitted"),
        ("start_screening", "submitted", "screening"),
        ("select", "screening", "selected"),
        ("suspend", "selected", "suspended"),
    ]
    # A reason only where the deciding user made it visible; no field changes with them.
    assert [e["reason"] for e in transitions] == [
        *[""] * 5,
        "Waiting for the customs agreement.",
    ]
    assert all(e["changes"] == [] for e in transitions)

    changes = {
        (e["model"], c["field"]): c for e in entries if e["kind"] == "change" for c in e["changes"]
    }
    # Display names, never ids.
    assert changes[("project", "lead_unit")]["new"] == str(project.lead_unit)
    assert changes[("project", "estimated_value")]["new"] == "2000000"
    participation_partners = [
        c["old"] or c["new"]
        for e in entries
        if e["model"] == "participation"
        for c in e["changes"]
        if c["field"] == "partner"
    ]
    assert str(foreign_partner) in participation_partners
    assert "another institution" in participation_partners
    assert all(not isinstance(v, int) for v in participation_partners)
    assert changes[("project", "tags")]["new"] == ["冷链"]


def test_staff_still_read_the_full_history(api_client, manager, story):
    project, _removed = story
    response = api_client(manager).get(
        f"/api/v1/projects/{project.code}/history/", {"page_size": 100}
    )
    text = str(response.json())
    assert "INTERNAL-REASON" in text and "manager" in text and "INTERNAL-9" in text


def test_reason_visibility_is_off_by_default_and_set_through_the_api(
    api_client, manager, partner_user, project
):
    Project.objects.filter(pk=project.pk).update(status="screening", screening_round=1)
    project.refresh_from_db()
    response = api_client(manager).post(
        f"/api/v1/projects/{project.code}/transitions/",
        {
            # Not `return_for_revision`: a draft is the office's working copy, which
            # partners do not see at all.
            "action": "not_select",
            "reason": "Please give the shares.",
            "reason_visible_to_partners": True,
        },
        format="json",
        HTTP_IF_MATCH=f'"{project.code}-v{project.version}"',
    )
    assert response.status_code == 200, response.content
    entries = _partner_history(api_client, partner_user, project)
    assert entries[-1]["reason"] == "Please give the shares."
    assert project.status_changes.get().reason_visible_to_partners is True


def test_support_decisions_and_progress_name_no_staff(
    api_client, partner_user, story, foreign_partner, officer
):
    project, _removed = story
    decisions = api_client(partner_user).get(f"/api/v1/projects/{project.code}/support-decisions/")
    assert decisions.status_code == 200
    for row in decisions.json()["results"]:
        assert row["decided_by"] == office_name()
        assert "conditions" not in row
    services.project_transition(project=project, actor=services_manager(), action="resume")
    services.progress_post(
        project=project,
        actor=officer,
        note="Officer's note",
        reported_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    updates = api_client(partner_user).get(f"/api/v1/projects/{project.code}/progress-updates/")
    assert [row["author"] for row in updates.json()["results"]] == [office_name()]
    assert Review.objects.filter(project=project).count() == 2
    assert Participation.objects.filter(project=project).count() == 1


def services_manager():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="manager")
