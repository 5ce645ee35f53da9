"""Warnings in the staff notifications: the lead unit's officers are told when a warning
is raised on their project (a kind each can turn off), the managers' daily digest counts
the open warnings by severity, and partners never hear of warnings."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from projects.models import Project
from projects.notifications.models import Notification
from projects.risk import services as risk_services
from projects.risk.models import Warning
from projects.risk.warnings import compute_warnings
from registry.models import Country
from registry.preferences import set_user_language
from tests import factories
from tests.conftest import make_user

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def running(project):
    Project.objects.filter(pk=project.pk).update(status="in_progress", actual_start=TODAY)
    project.refresh_from_db()
    return project


@pytest.fixture
def lead_unit_partner(lead_unit):
    """A partner-role account of the lead unit itself: still never told of warnings."""
    return make_user("lead-partner", "partner", lead_unit)


def raise_country_risk(manager, callbacks, level=4):
    # Through the register's service: the event recomputes the warnings after commit
    # (background task, immediate in tests) and the notices follow that commit.
    with callbacks(execute=True):
        risk_services.country_risk_record(
            actor=manager,
            country=Country.objects.get(pk="LA"),
            category="security",
            level=level,
            source="MFA notice",
        )


def test_officer_is_told_when_a_warning_is_raised_on_their_project(
    running,
    officer,
    other_officer,
    manager,
    partner_user,
    lead_unit_partner,
    django_capture_on_commit_callbacks,
):
    set_user_language(user=officer, language="en")
    raise_country_risk(manager, django_capture_on_commit_callbacks)
    notice = Notification.objects.get(kind="warning_raised")
    assert notice.recipient == officer and notice.project == running
    assert notice.subject == f"Warning on {running.code}: country risk high"
    assert "[critical] country risk high: Laos: security risk very high" in notice.body
    (email,) = [m for m in mail.outbox if m.to == [officer.email]]
    assert email.subject == notice.subject
    # Nobody else: not another unit's officer, not the manager, never a partner.
    told = set(Notification.objects.values_list("recipient", flat=True))
    assert told == {officer.pk}
    for user in (partner_user, lead_unit_partner):
        assert all(m.to != [user.email] for m in mail.outbox)


def test_a_warning_is_announced_once(running, officer, manager, django_capture_on_commit_callbacks):
    raise_country_risk(manager, django_capture_on_commit_callbacks)
    assert Notification.objects.filter(kind="warning_raised").count() == 1
    # The daily job finds the same cause: the warning is kept, nobody is told again.
    with django_capture_on_commit_callbacks(execute=True):
        counts = compute_warnings()
    assert counts["country_risk"]["raised"] == 0
    assert Notification.objects.filter(kind="warning_raised").count() == 1


def test_warning_notices_are_in_chinese_by_default(
    running, officer, manager, django_capture_on_commit_callbacks
):
    raise_country_risk(manager, django_capture_on_commit_callbacks, level=3)
    notice = Notification.objects.get(recipient=officer, kind="warning_raised")
    assert notice.subject.startswith(f"{running.code}")
    assert "预警" in notice.subject
    assert "[预警]" in notice.body


def test_officer_turns_warning_notices_off_in_the_admin(
    client, running, officer, manager, django_capture_on_commit_callbacks
):
    client.force_login(officer)
    page = client.get(reverse("admin-notifications"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'value="warning_raised"' in page
    # Every kind ticked but warnings.
    kinds = ["status_changed", "support_decided", "screening", "daily_digest"]
    assert client.post(reverse("admin-notifications"), {"kinds": kinds}).status_code == 302
    raise_country_risk(manager, django_capture_on_commit_callbacks)
    assert Warning.objects.filter(project=running, resolved_at__isnull=True).exists()
    assert not Notification.objects.filter(recipient=officer).exists()
    assert all(m.to != [officer.email] for m in mail.outbox)


def test_daily_digest_counts_open_warnings_by_severity(
    running, lead_unit, manager, partner_user, lead_unit_partner, django_capture_on_commit_callbacks
):
    set_user_language(user=manager, language="en")
    late = factories.ProjectFactory(lead_unit=lead_unit)
    Project.objects.filter(pk=late.pk).update(status="in_progress", planned_end=TODAY - DAY)
    stale = factories.ProjectFactory(lead_unit=lead_unit)
    Project.objects.filter(pk=stale.pk).update(status="in_progress", planned_end=TODAY - DAY)
    raise_country_risk(manager, django_capture_on_commit_callbacks)
    compute_warnings()
    dismissed = Warning.objects.get(project=stale, kind="end_passed")
    risk_services.warning_dismiss(warning=dismissed, actor=manager, reason="Extension agreed")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("notify_daily_digest", verbosity=0)
    (notice,) = Notification.objects.filter(kind="daily_digest")
    assert notice.recipient == manager
    # Open: the critical country risk and the late project's end; the dismissed one not.
    body = notice.body
    assert "Open warnings: 2" in body
    assert "  critical: 1\n  warning: 1\n  notice: 0" in body
    assert "Latest critical warnings:" in body and f"{running.code} country risk high" in body
    assert stale.code not in body
    assert any(m.to == [manager.email] for m in mail.outbox)
    assert all(m.to not in ([partner_user.email], [lead_unit_partner.email]) for m in mail.outbox)


def test_digest_is_sent_for_open_warnings_alone_and_not_when_all_are_closed(
    running, manager, django_capture_on_commit_callbacks
):
    raise_country_risk(manager, django_capture_on_commit_callbacks)
    call_command("notify_daily_digest", verbosity=0)
    assert Notification.objects.filter(kind="daily_digest").count() == 1
    raise_country_risk(manager, django_capture_on_commit_callbacks, level=1)
    assert not Warning.objects.filter(resolved_at__isnull=True).exists()
    call_command("notify_daily_digest", verbosity=0)
    assert Notification.objects.filter(kind="daily_digest").count() == 1


def test_partner_never_sees_warnings_in_the_portal(
    client, running, officer, manager, partner_user, django_capture_on_commit_callbacks
):
    raise_country_risk(manager, django_capture_on_commit_callbacks)
    warning = Warning.objects.get(project=running)
    client.force_login(partner_user)
    page = client.get(
        reverse("portal:project", args=[running.code]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert running.code in page
    assert warning.detail not in page and "country risk high" not in page
    assert client.get("/api/v1/warnings/").status_code == 403
    assert not Notification.objects.filter(recipient=partner_user).exists()


def test_one_notice_per_project_and_few_queries_for_projects_nobody_follows(
    running, officer, other_unit, manager, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from projects.notifications import services as notification_services

    def unfollowed(count):
        ids = []
        for _ in range(count):
            project = factories.ProjectFactory(
                lead_unit=other_unit, status="in_progress", countries=[("LA", 100)]
            )
            ids.append(
                Warning.objects.create(
                    kind="end_passed", severity=2, project=project, detail="planned end"
                ).pk
            )
        return ids

    # Two causes present when the daily job runs: one notice listing both warnings.
    Project.objects.filter(pk=running.pk).update(planned_end=TODAY - DAY)
    with django_capture_on_commit_callbacks(execute=False):
        risk_services.country_risk_record(
            actor=manager, country=Country.objects.get(pk="LA"), category="legal", level=4
        )
    with django_capture_on_commit_callbacks(execute=True):
        compute_warnings()
    (notice,) = Notification.objects.filter(recipient=officer, kind="warning_raised")
    assert notice.body.count("\n  [") == 2
    few, many = unfollowed(2), unfollowed(20)
    with CaptureQueriesContext(connection) as small:
        assert notification_services.on_warnings_raised(warning_ids=few) == 0
    with CaptureQueriesContext(connection) as large:
        assert notification_services.on_warnings_raised(warning_ids=many) == 0
    assert len(small) == len(large)
