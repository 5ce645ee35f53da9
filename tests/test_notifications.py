"""Staff notifications: who is told of what, in their own language, by email and in the
admin header's list; each kind can be turned off; the managers' daily digest."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from projects import services
from projects.models import Project
from projects.notifications.models import Notification
from registry.preferences import set_muted, set_user_language
from tests.conftest import make_user


@pytest.fixture
def reviewer_of_the_lead_unit(lead_unit):
    return make_user("reviewer-lead", "reviewer", lead_unit)


def transition(project, actor, action, callbacks, **kwargs):
    with callbacks(execute=True):
        return services.project_transition(project=project, actor=actor, action=action, **kwargs)


def test_officer_is_told_when_their_project_changes_status_in_their_language(
    project, officer, manager, django_capture_on_commit_callbacks
):
    set_user_language(user=officer, language="en")
    Project.objects.filter(pk=project.pk).update(status="submitted")
    transition(project, manager, "start_screening", django_capture_on_commit_callbacks)
    notice = Notification.objects.get(recipient=officer, kind="status_changed")
    assert notice.subject == f"{project.code} is now screening"
    assert "moved from submitted to screening" in notice.body
    (email,) = [m for m in mail.outbox if m.to == [officer.email]]
    assert email.subject == notice.subject
    # The manager who acted is not told of their own act.
    assert not Notification.objects.filter(recipient=manager, kind="status_changed").exists()


def test_chinese_is_the_default_language_of_a_notice(
    project, officer, manager, django_capture_on_commit_callbacks
):
    Project.objects.filter(pk=project.pk).update(status="submitted")
    transition(project, manager, "start_screening", django_capture_on_commit_callbacks)
    notice = Notification.objects.get(recipient=officer, kind="status_changed")
    assert "筛选" in notice.subject or "评审" in notice.subject


def test_reviewers_are_told_when_a_project_enters_screening_except_its_own_units(
    project, manager, reviewer, reviewer_of_the_lead_unit, django_capture_on_commit_callbacks
):
    Project.objects.filter(pk=project.pk).update(status="submitted")
    transition(project, manager, "start_screening", django_capture_on_commit_callbacks)
    told = set(Notification.objects.filter(kind="screening").values_list("recipient", flat=True))
    assert told == {reviewer.pk}


def test_a_kind_turned_off_is_not_sent(
    project, officer, manager, django_capture_on_commit_callbacks
):
    set_muted(user=officer, kinds=["status_changed"])
    Project.objects.filter(pk=project.pk).update(status="submitted")
    transition(project, manager, "start_screening", django_capture_on_commit_callbacks)
    assert not Notification.objects.filter(recipient=officer).exists()
    assert all(m.to != [officer.email] for m in mail.outbox)


def test_officer_is_told_of_a_support_decision(
    project, officer, manager, django_capture_on_commit_callbacks
):
    set_user_language(user=officer, language="en")
    Project.objects.filter(pk=project.pk).update(status="selected")
    with django_capture_on_commit_callbacks(execute=True):
        services.support_decide(project=project, actor=manager, kind="matchmaking")
    notice = Notification.objects.get(recipient=officer, kind="support_decided")
    assert notice.subject == f"Support decided for {project.code}"


def test_daily_digest_tells_managers_of_new_submissions_and_overdue_reviews(
    project, officer, manager, lead_unit, django_capture_on_commit_callbacks
):
    from tests import factories

    set_user_language(user=manager, language="en")
    transition(project, officer, "submit", django_capture_on_commit_callbacks)
    overdue = factories.ProjectFactory(lead_unit=lead_unit)
    Project.objects.filter(pk=overdue.pk).update(
        status="in_progress", next_review_due=timezone.localdate() - timedelta(days=3)
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("notify_daily_digest", verbosity=0)
    notice = Notification.objects.get(recipient=manager, kind="daily_digest")
    assert "New submissions (last 24 hours): 1" in notice.body and project.code in notice.body
    assert "Overdue periodic reviews: 1" in notice.body and overdue.code in notice.body
    assert any(m.to == [manager.email] for m in mail.outbox)


def test_no_digest_on_a_quiet_day(manager):
    call_command("notify_daily_digest", verbosity=0)
    assert not Notification.objects.exists()


def test_admin_header_lists_notifications_and_settings_turn_kinds_off(
    client, project, officer, manager, django_capture_on_commit_callbacks
):
    Project.objects.filter(pk=project.pk).update(status="submitted")
    transition(project, manager, "start_screening", django_capture_on_commit_callbacks)
    client.force_login(officer)
    index = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Notifications (1)" in index
    page = client.get(reverse("admin-notifications"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert project.code in page
    client.post(reverse("admin-notifications"), {"mark_read": "1"})
    assert "Notifications (1)" not in client.get(reverse("admin:index")).content.decode()
    response = client.post(reverse("admin-notifications"), {"kinds": ["screening"]})
    assert response.status_code == 302
    from registry.preferences import muted

    assert muted(officer) == {
        "status_changed",
        "support_decided",
        "daily_digest",
        "warning_raised",
    }


def test_notifications_page_shows_only_ones_own(
    client, project, officer, other_officer, manager, django_capture_on_commit_callbacks
):
    Project.objects.filter(pk=project.pk).update(status="submitted")
    transition(project, manager, "start_screening", django_capture_on_commit_callbacks)
    client.force_login(other_officer)
    assert project.code not in client.get(reverse("admin-notifications")).content.decode()


def test_the_language_switch_is_remembered_as_the_users_language(client, officer):
    client.force_login(officer)
    client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    from registry.preferences import user_language

    assert user_language(officer) == "en"
