"""OWASP API5:2023 (broken function level authorization): no admin page, action or API
call removes or edits a history row. Tags are merged or deactivated, never deleted;
users who appear in history are deactivated, never deleted."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client

from projects import services
from projects.errors import InvalidData
from projects.history import project_history
from projects.models import Project, StatusChange, Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def tagged(project, officer):
    project, _changed = services.project_update(
        actor=officer, project=project, data={}, tags=["冷链", "cold-chain"]
    )
    return project


def test_no_delete_of_a_tag_anywhere(root_client, tagged):
    tag = Tag.objects.get(name="冷链")
    assert root_client.get(f"/admin/projects/tag/{tag.pk}/delete/").status_code == 403
    response = root_client.post(
        "/admin/projects/tag/",
        {"action": "delete_selected", "_selected_action": [tag.pk], "post": "yes"},
    )
    assert Tag.objects.filter(pk=tag.pk).exists()
    assert response.status_code in (200, 302)


def test_merging_tags_keeps_history_and_bumps_versions(root_client, tagged, admin_user):
    source, target = Tag.objects.get(name="cold-chain"), Tag.objects.get(name="冷链")
    other = Tag.objects.create(name="冷链物流")
    version = tagged.version
    before = [e for e in project_history(tagged) if any(c["field"] == "tags" for c in e["changes"])]
    response = root_client.post(
        "/admin/projects/tag/",
        {"action": "merge_tags", "_selected_action": [source.pk], "merge_into": other.pk},
    )
    assert response.status_code == 302
    tagged.refresh_from_db()
    assert sorted(tagged.tags.values_list("name", flat=True)) == ["冷链", "冷链物流"]
    assert tagged.version == version + 1  # syncing clients see the change
    source.refresh_from_db()
    assert source.is_active is False  # kept, for the history that names it
    after = [e for e in project_history(tagged) if any(c["field"] == "tags" for c in e["changes"])]
    assert after[: len(before)] == before  # the past is unchanged
    new_changes = [c for e in after[len(before) :] for c in e["changes"] if c["field"] == "tags"]
    assert any("cold-chain" in c["old"] for c in new_changes)
    assert new_changes[-1]["new"] == ["冷链", "冷链物流"]
    assert target.is_active


def test_a_deactivated_tag_is_not_given_to_another_project(officer, tagged, lead_unit):
    tag = Tag.objects.get(name="冷链")
    services.tag_deactivate(tag=tag, actor=services_admin())
    other = Project.objects.exclude(pk=tagged.pk).first() or tagged
    with pytest.raises(InvalidData):
        services.project_create(
            actor=officer, data={"title_zh": "新", "lead_unit": lead_unit}, tags=["冷链"]
        )
    # A project that has it keeps it.
    services.project_update(actor=officer, project=tagged, data={}, tags=["冷链", "cold-chain"])
    assert other is not None


def services_admin():
    return get_user_model().objects.filter(
        is_superuser=True
    ).first() or get_user_model().objects.create_superuser("root2", "r@example.org", "x")


HISTORY_ADMINS = [
    model
    for model in admin.site._registry
    if model is StatusChange or model.__name__.startswith("Historical")
]


@pytest.mark.parametrize("model", HISTORY_ADMINS, ids=lambda m: m.__name__)
def test_no_admin_edits_or_removes_a_history_row(root_client, tagged, officer, model):
    services.project_transition(project=tagged, actor=officer, action="submit")
    row = model.objects.first()
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}"
    assert root_client.get(f"{base}/{row.pk}/delete/").status_code == 403
    root_client.post(f"{base}/{row.pk}/change/", {"reason": "rewritten"})
    root_client.post(
        f"{base}/", {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert model.objects.filter(pk=row.pk).exists()
    assert StatusChange.objects.get().reason == ""


def test_project_history_cannot_be_reverted(root_client, tagged):
    record = tagged.history.first()
    url = f"/admin/projects/project/{tagged.pk}/history/{record.history_id}/"
    assert root_client.post(url, {"title_zh": "改写"}).status_code == 403
    assert Project.history.filter(id=tagged.pk).count() == tagged.history.count()


def test_a_user_in_history_is_refused_deletion_and_deactivated(root_client, tagged, officer):
    url = f"/admin/auth/user/{officer.pk}/delete/"
    response = root_client.post(url, {"post": "yes"})
    assert get_user_model().objects.filter(pk=officer.pk).exists()
    assert response.status_code in (302, 403)
    response = root_client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [officer.pk], "post": "yes"},
    )
    assert get_user_model().objects.filter(pk=officer.pk).exists()
    root_client.post(
        "/admin/auth/user/", {"action": "deactivate_users", "_selected_action": [officer.pk]}
    )
    officer.refresh_from_db()
    assert officer.is_active is False
    assert "officer" in {entry["actor"] for entry in project_history(tagged)}


def test_a_user_absent_from_history_may_still_be_deleted(root_client):
    stranger = get_user_model().objects.create_user("nobody-yet", password="x")
    response = root_client.post(f"/admin/auth/user/{stranger.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=stranger.pk).exists()
