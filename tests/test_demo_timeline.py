"""The demo pool spans two years: projects created over 24 months, steps spaced by
plausible stage times, all written through the services with their `at` moment."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from projects import demo, services
from projects.errors import InvalidData
from projects.models import Project, StatusChange
from projects.reporting import stats


def test_loaded_demo_spans_two_years_with_real_stage_times(db):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    now = timezone.now()
    created = sorted(Project.objects.values_list("created_at", flat=True))
    assert now - created[0] > datetime.timedelta(days=540)
    assert created[-1] <= now
    months = {(moment.year, moment.month) for moment in created}
    assert len(months) >= 12

    for project in Project.objects.all():
        moments = list(
            StatusChange.objects.filter(project=project)
            .order_by("id")
            .values_list("created_at", flat=True)
        )
        assert moments == sorted(moments), project.title_zh
        assert all(project.created_at <= m <= now for m in moments), project.title_zh

    medians = stats.median_days_in_stage(Project.objects.all())
    assert medians, "no finished stays"
    assert all(row["median_days"] > 0 for row in medians.values())
    # The history agrees with the dates: the creation record carries the creation moment.
    project = Project.objects.order_by("created_at").first()
    assert project.history.earliest("history_date").history_date == project.created_at


def test_timeline_is_stable_and_never_reaches_today():
    now = timezone.now()
    steps = demo.path_to("archived")
    first = demo.timeline("项目", 0, 10, steps, now)
    assert first == demo.timeline("项目", 0, 10, steps, now)
    start, moments = demo.timeline("项目", 9, 10, steps, now)
    dated = [m for m in moments if m is not None]
    assert dated == sorted(dated)
    assert start < dated[0] and dated[-1] <= now - datetime.timedelta(days=1)


def test_a_moment_in_the_future_is_refused(project, officer):
    later = timezone.now() + datetime.timedelta(days=1)
    with pytest.raises(InvalidData) as error:
        services.project_transition(project=project, actor=officer, action="submit", at=later)
    assert "at" in error.value.errors
    project.refresh_from_db()
    assert project.status == "draft"
    assert not StatusChange.objects.filter(project=project).exists()
