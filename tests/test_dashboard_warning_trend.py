"""The warning trend on the dashboard: open warnings at the end of each of the last 12
weeks, in a table (the chart is drawn elsewhere), counted for the projects the user may
see; resolved and dismissed warnings stop counting from then on."""

import datetime
import re

import pytest
from django.utils import timezone

from projects.models import Project
from projects.risk.models import Warning
from projects.risk.warnings import open_trend
from tests import factories

URL = "/admin/dashboard/"


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def monday(weeks_back: int) -> datetime.date:
    today = timezone.localdate()
    return today - datetime.timedelta(days=today.weekday(), weeks=weeks_back)


def moment(weeks_back: int) -> datetime.datetime:
    """Tuesday noon of the week `weeks_back` weeks ago (always inside that week)."""
    day = monday(weeks_back) + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def warning(project, subject, seen, resolved=None, dismissed=None, manager=None):
    return Warning.objects.create(
        kind="country_risk",
        severity=Warning.Severity.WARNING,
        project=project,
        subject=subject,
        first_seen=moment(seen),
        last_seen=moment(seen),
        resolved_at=None if resolved is None else moment(resolved),
        dismissed_at=None if dismissed is None else moment(dismissed),
        dismissed_by=manager if dismissed is not None else None,
        dismiss_reason="Handled" if dismissed is not None else "",
    )


@pytest.fixture
def history(project, other_unit, manager):
    Project.objects.filter(pk=project.pk).update(status="in_progress")
    elsewhere = factories.ProjectFactory(lead_unit=other_unit, status="in_progress")
    warning(project, "A", seen=10)  # open since ten weeks ago
    warning(project, "B", seen=5, resolved=3)  # resolved three weeks ago
    warning(project, "C", seen=2, dismissed=1, manager=manager)  # dismissed last week
    warning(project, "E", seen=20, resolved=15)  # long gone
    warning(elsewhere, "D", seen=8)  # another unit's project
    return project, elsewhere


def table(html: str) -> dict[str, int]:
    section = html.split('id="table-warning-trend"', 1)[1].split("</section>", 1)[0]
    return {
        week: int(count)
        for week, count in re.findall(r'data-week="([^"]+)" data-count="(\d+)"', section)
    }


def week_label(weeks_back: int) -> str:
    year, week, _day = monday(weeks_back).isocalendar()
    return f"{year}-W{week:02d}"


def expected(*, with_other_unit: bool) -> dict[str, int]:
    counts = {}
    for back in range(11, -1, -1):
        count = int(back <= 10) + int(back in (5, 4)) + int(back == 2)
        if with_other_unit:
            count += int(back <= 8)
        counts[week_label(back)] = count
    return counts


def test_manager_sees_open_warnings_per_week_for_twelve_weeks(client, manager, history):
    client.force_login(manager)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Open warnings per week (last 12 weeks)" in html
    rows = table(html)
    assert list(rows) == [week_label(back) for back in range(11, -1, -1)]
    assert rows == expected(with_other_unit=True)


def test_officer_counts_only_their_units_projects(client, officer, history):
    client.force_login(officer)
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "每周待处理预警" in html
    assert table(html) == expected(with_other_unit=False)


def test_trend_is_one_query(django_assert_num_queries, history):
    with django_assert_num_queries(1):
        rows = open_trend(Project.objects.all())
    assert [row["count"] for row in rows] == list(expected(with_other_unit=True).values())


def test_partner_gets_no_dashboard(client, partner_user, history):
    client.force_login(partner_user)
    response = client.get(URL)
    assert response.status_code in (302, 403)
    assert 'id="table-warning-trend"' not in response.content.decode()
