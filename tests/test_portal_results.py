"""Results in the partner portal: a partner of a participating institution reads the
project's results and reports an actual through `period_report`, with the API's rights
(404 for projects it cannot see, no report on another institution's project), the
form's errors shown, CSRF enforced and the stale-write check kept."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from projects.models import Participation, Project
from projects.results import services
from projects.results.models import Period
from tests import factories
from tests.conftest import make_user


@pytest.fixture
def running(project):
    Project.objects.filter(pk=project.pk).update(status="in_progress")
    project.refresh_from_db()
    return project


def make_period(officer, project, *, measure="quantitative", start=date(2025, 1, 1)):
    result = services.result_create(
        project=project,
        actor=officer,
        type="output",
        title_zh="集装箱运量",
        title_en="Containers moved",
        indicators=[
            services.IndicatorData(
                title_zh="海铁联运箱量",
                title_en="Sea-rail containers",
                measure=measure,
                unit="" if measure == "qualitative" else "TEU",
                periods=[
                    services.PeriodData(
                        period_start=start,
                        period_end=date(start.year, 12, 31),
                        target_value=None if measure == "qualitative" else Decimal("960000"),
                        target_comment="目标" if measure == "qualitative" else "",
                    )
                ],
            )
        ],
    )
    return Period.objects.get(indicator__result=result)


def report_url(project, period):
    return reverse("portal:period-report", args=[project.code, period.pk])


def post_report(client, project, period, **data):
    project.refresh_from_db()
    return client.post(
        report_url(project, period),
        {"version": project.version, **data},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_partner_sees_results_with_target_actual_and_status(client, partner_user, officer, running):
    period = make_period(officer, running)
    client.force_login(partner_user)
    page = client.get(
        reverse("portal:project", args=[running.code]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Containers moved" in page and "Sea-rail containers" in page
    assert "960000" in page and f'id="period-{period.pk}" data-status="open"' in page
    assert report_url(running, period) in page
    # Staff identities (who reported, who approved) are not shown to partners.
    assert officer.username not in page
    zh = client.get(
        reverse("portal:project", args=[running.code]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "集装箱运量" in zh and "报告实际值" in zh


def test_partner_reports_an_actual_then_the_period_is_reported(
    client, partner_user, officer, foreign_partner, running
):
    period = make_period(officer, running)
    client.force_login(partner_user)
    response = post_report(client, running, period, actual_value="812000.5")
    assert response.status_code == 302
    assert response.url == reverse("portal:project", args=[running.code])
    period.refresh_from_db()
    assert period.status == "reported"
    assert period.actual_value == Decimal("812000.5")
    assert period.reporting_partner == foreign_partner
    assert period.reported_by == partner_user
    # Recorded in history with the acting user, like every write.
    assert period.history.latest().history_user == partner_user
    page = client.get(reverse("portal:project", args=[running.code])).content.decode()
    assert 'data-status="reported"' in page and "812000.5" in page


def test_returned_period_can_be_reported_again_and_shows_the_comment(
    client, partner_user, officer, running
):
    period = make_period(officer, running)
    services.period_report(period=period, actor=officer, actual_value=Decimal("5"))
    services.period_return(period=period, actor=officer, comment="Count rail only")
    client.force_login(partner_user)
    page = client.get(report_url(running, period), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Count rail only" in page and 'id="actual-form"' in page
    assert post_report(client, running, period, actual_value="7").status_code == 302
    period.refresh_from_db()
    assert (period.status, period.actual_value) == ("reported", Decimal("7"))


def test_bad_input_shows_the_errors_and_changes_nothing(client, partner_user, officer, running):
    period = make_period(officer, running)
    client.force_login(partner_user)
    missing = post_report(client, running, period, actual_value="")
    assert missing.status_code == 400
    assert "Give the actual figure." in missing.content.decode()
    not_a_number = post_report(client, running, period, actual_value="lots")
    assert not_a_number.status_code == 400
    assert "Enter a number." in not_a_number.content.decode()
    period.refresh_from_db()
    assert (period.status, period.actual_value) == ("open", None)


def test_qualitative_indicator_needs_a_description(client, partner_user, officer, running):
    period = make_period(officer, running, measure="qualitative")
    client.force_login(partner_user)
    response = post_report(client, running, period, actual_value="3")
    assert response.status_code == 400
    assert "A qualitative indicator has no figures." in response.content.decode()
    assert post_report(client, running, period, actual_comment="Two trainings").status_code == 302
    period.refresh_from_db()
    assert period.actual_comment == "Two trainings"


def test_approved_or_future_period_is_not_offered_and_refused(
    client, partner_user, officer, running
):
    approved = make_period(officer, running)
    services.period_report(period=approved, actor=officer, actual_value=Decimal("5"))
    services.period_approve(period=approved, actor=officer)
    future = make_period(officer, running, start=date(2099, 1, 1))
    client.force_login(partner_user)
    page = client.get(reverse("portal:project", args=[running.code])).content.decode()
    assert report_url(running, approved) not in page
    assert report_url(running, future) not in page
    refused = post_report(client, running, approved, actual_value="9")
    assert refused.status_code == 400
    assert "cannot be reported now" in refused.content.decode()
    approved.refresh_from_db()
    assert approved.actual_value == Decimal("5")
    early = post_report(client, running, future, actual_value="9")
    assert early.status_code == 400
    assert "has not started" in early.content.decode()


def test_stale_form_is_refused(client, partner_user, officer, running):
    period = make_period(officer, running)
    client.force_login(partner_user)
    old_version = Project.objects.get(pk=running.pk).version
    services.period_report(period=period, actor=officer, actual_value=Decimal("1"))
    response = client.post(
        report_url(running, period),
        {"version": old_version, "actual_value": "2"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "changed by someone else" in response.content.decode()
    period.refresh_from_db()
    assert period.actual_value == Decimal("1")


def test_projects_the_partner_cannot_see_are_404(client, partner_user, officer, lead_unit, db):
    other = factories.ProjectFactory(
        status="in_progress", lead_unit=lead_unit, countries=[("LA", 100)], partners=[]
    )
    period = make_period(officer, other)
    client.force_login(partner_user)
    assert client.get(reverse("portal:project", args=[other.code])).status_code == 404
    assert client.get(report_url(other, period)).status_code == 404
    assert (
        client.post(report_url(other, period), {"version": 1, "actual_value": "1"}).status_code
        == 404
    )
    period.refresh_from_db()
    assert period.status == "open"


def test_period_of_another_project_is_404(client, partner_user, officer, lead_unit, running):
    other = factories.ProjectFactory(
        status="in_progress", lead_unit=lead_unit, countries=[("LA", 100)], partners=[]
    )
    foreign_period = make_period(officer, other)
    client.force_login(partner_user)
    url = reverse("portal:period-report", args=[running.code, foreign_period.pk])
    assert client.post(url, {"version": 1, "actual_value": "1"}).status_code == 404


def test_partner_user_without_a_participating_institution_cannot_report(client, officer, running):
    """A user of an institution not taking part cannot even see the project."""
    outsider = make_user(
        "outsider", "partner", factories.PartnerFactory(country_id="TH", name_en="Thai Co")
    )
    period = make_period(officer, running)
    client.force_login(outsider)
    assert client.get(report_url(running, period)).status_code == 404


def test_partner_of_two_institutions_says_on_whose_behalf(
    client, officer, foreign_partner, running
):
    second = factories.PartnerFactory(country_id="LA", name_en="Lao Rail")
    Participation.objects.create(project=running, partner=second, role="partner")
    user = make_user("two-hats", "partner", foreign_partner, second)
    period = make_period(officer, running)
    client.force_login(user)
    missing = post_report(client, running, period, actual_value="4")
    assert missing.status_code == 400 and "This field is required." in missing.content.decode()
    assert (
        post_report(client, running, period, actual_value="4", partner=second.pk).status_code == 302
    )
    period.refresh_from_db()
    assert period.reporting_partner == second


def test_csrf_is_enforced(partner_user, officer, running):
    period = make_period(officer, running)
    client = Client(enforce_csrf_checks=True)
    client.force_login(partner_user)
    running.refresh_from_db()
    data = {"version": running.version, "actual_value": "3"}
    assert client.post(report_url(running, period), data).status_code == 403
    client.get(report_url(running, period))
    data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    assert client.post(report_url(running, period), data).status_code == 302
