"""Risk early warning: registers, each warning rule raised and resolved, the daily job
idempotent, events recomputing, dismissal by managers, and partners never seeing any."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from projects import services as project_services
from projects.models import Project, SupportDecision
from projects.results import services as results_services
from projects.risk import services
from projects.risk.models import CountryRisk, ProjectRisk, Warning
from projects.risk.warnings import compute_warnings
from registry.models import Country
from tests import factories
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("english")

API = "/api/v1"
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def live(kind, project=None):
    rows = Warning.objects.filter(kind=kind, resolved_at__isnull=True)
    return rows.filter(project=project) if project else rows


def set_status(project, status, **fields):
    Project.objects.filter(pk=project.pk).update(status=status, **fields)
    project.refresh_from_db()
    return project


@pytest.fixture
def running(project):
    return set_status(project, "in_progress", actual_start=TODAY - 10 * DAY)


def test_country_risk_raised_then_lowered(manager, running):
    laos = Country.objects.get(pk="LA")
    services.country_risk_record(actor=manager, country=laos, category="security", level=2)
    compute_warnings()
    assert not live("country_risk").exists()
    services.country_risk_record(
        actor=manager, country=laos, category="security", level=4, source="MFA notice"
    )
    compute_warnings()
    warning = live("country_risk", running).get()
    assert (warning.subject, warning.severity) == ("LA:security", Warning.Severity.CRITICAL)
    # A later assessment in force replaces it: the cause is gone, the warning resolved.
    services.country_risk_record(actor=manager, country=laos, category="security", level=1)
    compute_warnings()
    warning.refresh_from_db()
    assert warning.resolved_at is not None
    # The register keeps every assessment with its author.
    assert CountryRisk.objects.filter(country=laos).count() == 3
    assert CountryRisk.objects.first().history.get().history_user == manager


def test_future_assessment_not_yet_in_force(manager, running):
    laos = Country.objects.get(pk="LA")
    services.country_risk_record(
        actor=manager, country=laos, category="political", level=3, effective_date=TODAY + DAY
    )
    compute_warnings()
    assert not live("country_risk").exists()
    compute_warnings(today=TODAY + DAY)
    assert live("country_risk", running).exists()


def test_country_risk_register_is_for_managers(officer):
    with pytest.raises(project_services.NotAllowed):
        services.country_risk_record(
            actor=officer, country=Country.objects.get(pk="LA"), category="legal", level=3
        )


def test_raising_a_country_risk_warns_at_once(manager, running, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.country_risk_record(
            actor=manager, country=Country.objects.get(pk="LA"), category="payment", level=3
        )
    assert live("country_risk", running).get().severity == Warning.Severity.WARNING


def test_no_progress_raised_and_resolved_by_an_update(officer, running, settings):
    settings.REGISTRY_WARNING_NO_PROGRESS_DAYS = 30
    compute_warnings()
    assert not live("no_progress").exists()
    set_status(running, "in_progress", actual_start=TODAY - 60 * DAY)
    compute_warnings()
    assert live("no_progress", running).exists()
    project_services.progress_post(project=running, actor=officer, note="班列已开行")
    compute_warnings()
    assert not live("no_progress").exists()


def test_support_expiring_raised_and_resolved_by_renewal(manager, running):
    def decide(valid_until):
        return SupportDecision.objects.create(
            project=running,
            kind="funding",
            decided_by=manager,
            decided_on=TODAY - 100 * DAY,
            valid_until=valid_until,
        )

    decide(TODAY + 60 * DAY)
    compute_warnings()
    assert not live("support_expiring").exists()
    expiring = decide(TODAY + 5 * DAY)
    SupportDecision.objects.exclude(pk=expiring.pk).delete()
    compute_warnings()
    warning = live("support_expiring", running).get()
    assert warning.severity == Warning.Severity.WARNING
    decide(TODAY + 365 * DAY)
    compute_warnings()
    assert not live("support_expiring").exists()


def test_review_overdue_raised_and_resolved(running):
    set_status(running, "in_progress", next_review_due=TODAY - DAY)
    compute_warnings()
    assert live("review_overdue", running).exists()
    set_status(running, "in_progress", next_review_due=TODAY + 300 * DAY)
    compute_warnings()
    assert not live("review_overdue").exists()


def test_end_passed_raised_and_resolved_by_completion(running):
    set_status(running, "in_progress", planned_start=TODAY - 400 * DAY, planned_end=TODAY - DAY)
    compute_warnings()
    assert live("end_passed", running).exists()
    set_status(running, "completed", actual_end=TODAY)
    compute_warnings()
    assert not live("end_passed").exists()


def test_indicator_under_target_raised_and_resolved(officer, running, settings):
    settings.REGISTRY_WARNING_TARGET_SHARE = "0.8"
    result = results_services.result_create(
        project=running,
        actor=officer,
        type="output",
        title_en="Containers",
        indicators=[
            results_services.IndicatorData(
                title_en="TEU",
                periods=[
                    results_services.PeriodData(
                        period_start=TODAY - 200 * DAY,
                        period_end=TODAY - DAY,
                        target_value=Decimal("100"),
                    )
                ],
            )
        ],
    )
    period = result.indicators.get().periods.get()
    results_services.period_report(period=period, actor=officer, actual_value="79")
    compute_warnings()
    assert live("under_target", running).get().subject == f"period:{period.pk}"
    results_services.period_report(period=period, actor=officer, actual_value="85")
    compute_warnings()
    assert not live("under_target").exists()


def test_dispute_open_too_long_raised_and_resolved(officer, running, settings):
    settings.REGISTRY_WARNING_DISPUTE_DAYS = 30
    dispute = services.project_risk_save(
        actor=officer,
        project=running,
        kind="dispute",
        category="legal",
        title="货款纠纷",
        resolution_channel="arbitration",
        opened_on=TODAY - 40 * DAY,
    )
    compute_warnings()
    assert live("dispute_open", running).get().subject == f"risk:{dispute.pk}"
    services.project_risk_save(actor=officer, project=running, risk=dispute, status="closed")
    compute_warnings()
    assert not live("dispute_open").exists()
    dispute.refresh_from_db()
    assert dispute.closed_on == TODAY


def test_dispute_needs_a_resolution_channel(officer, running):
    with pytest.raises(project_services.InvalidData) as error:
        services.project_risk_save(
            actor=officer, project=running, kind="dispute", category="legal", title="纠纷"
        )
    assert "resolution_channel" in error.value.errors
    assert not ProjectRisk.objects.exists()


def test_daily_job_is_idempotent_and_runs_as_command_and_task(running, capsys):
    set_status(running, "in_progress", next_review_due=TODAY - DAY, planned_end=TODAY - DAY)
    call_command("compute_warnings")
    assert "review_overdue: 1 raised" in capsys.readouterr().out
    first = list(Warning.objects.values_list("pk", "kind", "first_seen"))
    call_command("compute_warnings")
    assert "review_overdue: 0 raised, 0 resolved, 1 kept" in capsys.readouterr().out
    from projects.risk.tasks import compute_warnings_task

    result = compute_warnings_task.enqueue()
    assert result.return_value["end_passed"] == {"raised": 0, "resolved": 0, "kept": 1}
    assert list(Warning.objects.values_list("pk", "kind", "first_seen")) == first


def test_dismissed_by_a_manager_with_a_reason_and_stays_dismissed(manager, officer, running):
    set_status(running, "in_progress", next_review_due=TODAY - DAY)
    compute_warnings()
    warning = live("review_overdue").get()
    with pytest.raises(project_services.NotAllowed):
        services.warning_dismiss(warning=warning, actor=officer, reason="x")
    with pytest.raises(project_services.InvalidData):
        services.warning_dismiss(warning=warning, actor=manager, reason=" ")
    services.warning_dismiss(warning=warning, actor=manager, reason="复核已安排")
    compute_warnings()
    warning.refresh_from_db()
    assert warning.dismissed_by == manager and warning.resolved_at is None
    assert live("review_overdue").count() == 1
    set_status(running, "in_progress", next_review_due=TODAY + 100 * DAY)
    compute_warnings()
    warning.refresh_from_db()
    assert warning.resolved_at is not None


# --- Who sees them ----------------------------------------------------------------------


@pytest.fixture
def warned(running, other_unit):
    set_status(running, "in_progress", next_review_due=TODAY - DAY)
    elsewhere = factories.ProjectFactory(
        lead_unit=other_unit, status="in_progress", next_review_due=TODAY - DAY
    )
    compute_warnings()
    return running, elsewhere


def test_warnings_api_for_staff_only(api_client, warned, manager, officer, partner_user):
    running, elsewhere = warned
    response = api_client(manager).get(f"{API}/warnings/?kind=review_overdue&state=open")
    assert response.status_code == 200
    assert {row["project"] for row in response.json()["results"]} == {
        running.code,
        elsewhere.code,
    }
    own = api_client(officer).get(f"{API}/warnings/").json()["results"]
    assert [row["project"] for row in own] == [running.code]
    refused = api_client(partner_user).get(f"{API}/warnings/")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    warning_id = own[0]["id"]
    assert api_client(partner_user).get(f"{API}/warnings/{warning_id}/").status_code == 403
    assert api_client(manager).get(f"{API}/warnings/?kind=nope").status_code == 400
    assert api_client(manager).get(f"{API}/warnings/?colour=red").status_code == 400


def test_partners_never_see_risks_or_warnings_anywhere(client, api_client, warned, partner_user):
    running, _elsewhere = warned
    detail = api_client(partner_user).get(f"{API}/projects/{running.code}/").json()
    assert not {"risk_notes", "warnings", "risks"} & set(detail)
    client.force_login(partner_user)
    for page in ("warning", "countryrisk", "projectrisk"):
        assert client.get(f"/admin/projects/{page}/").status_code in (302, 403)


def test_admin_list_filters_and_project_panel(client, warned, manager, officer):
    running, elsewhere = warned
    client.force_login(manager)
    page = client.get("/admin/projects/warning/?kind=review_overdue&state=open&severity=2")
    assert page.status_code == 200
    assert running.code in page.content.decode() and elsewhere.code in page.content.decode()
    by_unit = client.get(f"/admin/projects/warning/?lead_unit={running.lead_unit_id}")
    assert elsewhere.code not in by_unit.content.decode()
    by_country = client.get("/admin/projects/warning/?country=LA")
    assert running.code in by_country.content.decode()
    client.force_login(officer)
    panel = client.get(f"/admin/projects/project/{running.pk}/change/").content.decode()
    assert 'id="project-warnings"' in panel and "warning-review_overdue" in panel


def test_manager_dismisses_in_the_admin(client, warned, manager, officer):
    running, _ = warned
    warning = live("review_overdue", running).get()
    client.force_login(officer)
    assert (
        client.post(
            f"/admin/projects/warning/{warning.pk}/change/", {"dismiss_reason": "no"}
        ).status_code
        == 403
    )
    client.force_login(manager)
    response = client.post(
        f"/admin/projects/warning/{warning.pk}/change/", {"dismiss_reason": "已复核"}
    )
    assert response.status_code == 302
    warning.refresh_from_db()
    assert (warning.dismissed_by, warning.dismiss_reason) == (manager, "已复核")


def test_country_register_in_the_admin(client, manager, officer):
    client.force_login(manager)
    response = client.post(
        "/admin/projects/countryrisk/add/",
        {
            "country": "MM",
            "category": "security",
            "level": "4",
            "effective_date": str(TODAY),
            "source": "通报",
            "note": "",
        },
    )
    assert response.status_code == 302, response.content
    assessment = CountryRisk.objects.get(country_id="MM")
    assert assessment.recorded_by == manager
    assert client.get(f"/admin/projects/countryrisk/{assessment.pk}/change/").status_code == 200
    client.force_login(officer)
    assert client.get("/admin/projects/countryrisk/add/").status_code == 403
    unused = make_user("viewer", "reviewer")
    client.force_login(unused)
    assert client.get("/admin/projects/countryrisk/").status_code == 200


def test_a_transition_recomputes_its_projects_warnings(
    officer, running, django_capture_on_commit_callbacks
):
    set_status(running, "in_progress", planned_start=TODAY - 400 * DAY, planned_end=TODAY - DAY)
    compute_warnings()
    assert live("end_passed", running).exists()
    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_transition(project=running, actor=officer, action="complete")
    running.refresh_from_db()
    assert running.status == "completed"
    assert not live("end_passed").exists()


def test_editing_the_review_date_resolves_at_once(
    manager, running, django_capture_on_commit_callbacks
):
    set_status(running, "in_progress", next_review_due=TODAY - DAY)
    compute_warnings()
    with django_capture_on_commit_callbacks(execute=True):
        # The review date is the managers' to set (the editable-fields table).
        project_services.project_update(
            project=running, actor=manager, data={"next_review_due": TODAY + 90 * DAY}
        )
    assert not live("review_overdue").exists()
