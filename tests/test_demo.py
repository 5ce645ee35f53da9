"""The demonstration data set and the demo users: loaded twice, nothing is duplicated."""

import re
from io import StringIO

from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from partners.models import Membership, Partner
from projects import access, demo
from projects.models import Participation, Project, ProjectCountry, ProjectSector, Status, Tag


def row_counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            Partner,
            Project,
            ProjectCountry,
            ProjectSector,
            Participation,
            Tag,
            Membership,
            get_user_model(),
        )
    }


def run(command, *args):
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_load_demo_drafts_twice_creates_the_same_rows(db):
    run("load_demo", "--drafts-only")
    first = row_counts()
    assert first["Partner"] == len(demo.demo_partners()) >= 20
    assert first["Project"] == len(demo.demo_projects()) >= 40
    output = run("load_demo", "--drafts-only")
    assert row_counts() == first
    assert "0 institutions and 0 projects created" in output


def test_demo_projects_are_labelled_and_complete(db):
    run("load_demo", "--drafts-only")
    projects = Project.objects.all()
    assert all(p.tags.filter(name=demo.DEMO_TAG).exists() for p in projects)
    assert all(p.summary_zh.startswith(demo.SUMMARY_PREFIX_ZH) for p in projects)
    assert all(p.summary_en.startswith(demo.SUMMARY_PREFIX_EN) for p in projects)
    assert all(p.status == Status.DRAFT and p.code for p in projects)
    assert {p.kind for p in projects} == {"project", "activity"}
    # The data set spreads over statuses, regions and the people-to-people sectors.
    targets = {row["status"] for row in demo.demo_projects()}
    assert targets == set(Status.values)
    regions = set(ProjectCountry.objects.values_list("country__subregion", flat=True))
    assert {"South-eastern Asia", "Southern Asia", "Central Asia", "Western Asia"} <= regions
    assert ProjectSector.objects.filter(sector__people_to_people=True).exists()
    assert all(p.lead_unit.country_id == "CN" for p in projects.select_related("lead_unit"))


def test_every_target_status_has_a_path_of_known_actions():
    for status in Status.values:
        for step in demo.path_to(status):
            assert step in demo.ACTION_RESULT or step in (demo.REVIEWS, demo.SUPPORT)
            if step in demo.ACTION_RESULT:
                assert step in demo.ACTION_ACTOR
        steps = [s for s in demo.path_to(status) if s in demo.ACTION_RESULT]
        assert (demo.ACTION_RESULT[steps[-1]] if steps else Status.DRAFT) == status


def test_a_project_resumes_its_path_where_it_stands():
    assert demo.remaining_steps(Status.COMPLETED, Status.DRAFT)[0] == "submit"
    assert demo.remaining_steps(Status.COMPLETED, Status.SELECTED) == (
        demo.SUPPORT,
        "start_implementation",
        "complete",
    )
    assert demo.remaining_steps(Status.SELECTED, Status.SELECTED) == ()
    # Moved off the path by hand: left alone.
    assert demo.remaining_steps(Status.SELECTED, Status.WITHDRAWN) == ()


def test_demo_users_twice_keeps_one_user_each_and_prints_fresh_passwords(db):
    first = run("demo_users")
    second = run("demo_users")
    usernames = [spec.username for spec in demo.DEMO_USERS]
    users = get_user_model().objects.filter(username__in=usernames)
    assert users.count() == len(usernames)
    assert Membership.objects.filter(user__in=users).count() == 2

    def passwords(output):
        return dict(re.findall(r"^\s+(demo-\S+)\s+\S+\s+(\S+)$", output, re.MULTILINE))

    assert set(passwords(first)) == set(usernames) == set(passwords(second))
    for username, password in passwords(second).items():
        assert passwords(first)[username] != password
        # django-axes' backend checks the lockout first and needs the login's request.
        request = RequestFactory().post("/admin/login/")
        assert authenticate(request, username=username, password=password) is not None
        assert authenticate(request, username=username, password=passwords(first)[username]) is None
    assert "/admin/" in second and "/api/v1/" in second and "/portal/" in second


def test_demo_users_have_their_roles_and_institutions(db):
    run("load_demo", "--drafts-only")
    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="demo-")}
    assert users["demo-admin"].is_superuser
    assert not users["demo-partner"].is_staff
    assert all(users[name].is_staff for name in users if name != "demo-partner")
    assert access.user_roles(users["demo-reviewer2"]) == {"reviewer"}

    officer_sees = access.visible_projects(users["demo-officer"])
    assert 0 < officer_sees.count() < Project.objects.count()
    # Drafts are the office's: the partner follows projects from submission on.
    assert access.visible_projects(users["demo-partner"]).count() == 0
    Project.objects.update(status="submitted")
    partner_sees = access.visible_projects(users["demo-partner"])
    assert 0 < partner_sees.count() < Project.objects.count()
    assert access.visible_projects(users["demo-manager"]).count() == Project.objects.count()


def test_load_demo_creates_missing_users_without_touching_existing_ones(db):
    run("demo_users")
    officer = get_user_model().objects.get(username="demo-officer")
    password_hash = officer.password
    get_user_model().objects.filter(username="demo-manager").delete()
    output = run("load_demo", "--drafts-only")
    assert "demo-manager" in output and "demo-officer" not in output
    officer.refresh_from_db()
    assert officer.password == password_hash


def test_full_load_reaches_every_target_status(db):
    """The demo set walks every project through the workflow services to its status."""
    run("load_demo")
    for row in demo.demo_projects():
        project = demo.find_demo_project(row["title_zh"])
        assert project.status == row["status"], row["title_zh"]
    counts = row_counts()
    run("load_demo")
    assert row_counts() == counts
