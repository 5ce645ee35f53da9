"""API tokens, session authentication, the error shape and its language, and limits."""

import datetime
import hashlib
import io
import json

import pytest
from django.contrib.admin.sites import site
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from projects.models import Project
from registry.authentication import issue_token
from registry.models import ApiToken

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

API = "/api/v1"


def bearer(secret: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en")


# --- Tokens --------------------------------------------------------------------------------


def test_issue_token_command_prints_the_secret_once_and_stores_its_hash(manager):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "issue_token", "manager", "--name", "ERP sync", "--days", "30", stdout=out, stderr=err
    )
    secret = out.getvalue().strip()
    token = ApiToken.objects.get(user=manager)
    assert token.name == "ERP sync"
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.key_prefix) and secret not in err.getvalue()
    # the secret is nowhere in the database row
    assert secret not in json.dumps([str(v) for v in ApiToken.objects.values().get().values()])
    remaining = token.expires_at - timezone.now()
    assert datetime.timedelta(days=29) < remaining <= datetime.timedelta(days=30)
    assert bearer(secret).get(f"{API}/me/").json()["auth"] == "token"


def test_issue_token_command_refuses_unknown_user(db):
    with pytest.raises(CommandError):
        call_command("issue_token", "nobody", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def test_a_user_may_hold_several_tokens(manager):
    _, first = issue_token(user=manager, name="laptop")
    _, second = issue_token(user=manager, name="server")
    assert first != second
    for secret in (first, second):
        response = bearer(secret).get(f"{API}/me/")
        assert response.status_code == 200 and response.json()["username"] == "manager"


def test_expired_token_is_401(manager):
    token, secret = issue_token(user=manager, name="old", days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(1))
    response = bearer(secret).get(f"{API}/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_401(manager):
    token, secret = issue_token(user=manager, name="leaked")
    assert bearer(secret).get(f"{API}/me/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert bearer(secret).get(f"{API}/me/").status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer reg_wrong", "Bearer \xff\xfe"])
def test_bad_bearer_headers_are_401(manager, header):
    issue_token(user=manager, name="t")
    response = APIClient(HTTP_AUTHORIZATION=header).get(f"{API}/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_inactive_users_token_is_401(manager):
    _, secret = issue_token(user=manager, name="t")
    manager.is_active = False
    manager.save()
    assert bearer(secret).get(f"{API}/me/").status_code == 401


def test_last_used_is_recorded_without_a_write_per_request(manager, django_assert_num_queries):
    token, secret = issue_token(user=manager, name="t")
    client = bearer(secret)
    client.get(f"{API}/me/")
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    # token lookup with the roles, memberships' partners: no UPDATE on the second request
    with django_assert_num_queries(2):
        client.get(f"{API}/me/")
    token.refresh_from_db()
    assert token.last_used_at == first_use


@pytest.fixture
def plain_static_files(settings):
    """Pages with static assets render without a collectstatic manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.mark.usefixtures("plain_static_files")
def test_admin_revokes_tokens_and_never_shows_the_secret(admin_user, manager):
    token, secret = issue_token(user=manager, name="partner ERP")
    client = Client()
    client.force_login(admin_user)
    change_page = client.get(f"/admin/registry/apitoken/{token.pk}/change/")
    assert change_page.status_code == 200
    assert secret not in change_page.content.decode()
    assert token.key_hash not in change_page.content.decode()
    assert client.get("/admin/registry/apitoken/add/").status_code == 403
    response = client.post(
        "/admin/registry/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(secret).get(f"{API}/me/").status_code == 401
    assert not site._registry[ApiToken].has_delete_permission(None)


# --- Session and anonymous -----------------------------------------------------------------


@pytest.mark.usefixtures("plain_static_files")
def test_session_login_works_and_browsable_api_renders_in_both_languages(manager, project):
    client = Client()
    client.force_login(manager)
    english = client.get(f"{API}/projects/", HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.get(
        f"{API}/projects/", HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert english.status_code == chinese.status_code == 200
    assert project.code in english.content.decode() and project.code in chinese.content.decode()
    # the filter form names reference data in the request's language
    assert "东盟" in chinese.content.decode() and "东盟" not in english.content.decode()
    assert "ASEAN" in english.content.decode()


@pytest.mark.usefixtures("plain_static_files")
@pytest.mark.parametrize("role", ["officer", "manager", "partner_user"])
def test_browsable_pages_with_their_forms_render_for_each_role(request, project, role):
    Project.objects.filter(pk=project.pk).update(status="submitted")  # partners see no drafts
    client = Client()
    client.force_login(request.getfixturevalue(role))
    for path in (
        f"{API}/",
        f"{API}/projects/",
        f"{API}/projects/{project.code}/",
        f"{API}/projects/{project.code}/progress-updates/",
        f"{API}/projects/{project.code}/support-decisions/",
        f"{API}/partners/",
        f"{API}/me/",
    ):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith("text/html")


def test_session_write_needs_csrf(officer, project):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    response = client.patch(
        f"{API}/projects/{project.code}/",
        data=json.dumps({"title_en": "x"}),
        content_type="application/json",
        HTTP_IF_MATCH=f'"{project.code}-v1"',
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_anonymous_gets_401_with_challenge(db):
    response = APIClient().get(f"{API}/projects/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# --- Error shape and language --------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "Authentication credentials were not provided."), ("zh-hans", "身份认证信息未提供。")],
)
def test_error_message_follows_accept_language(db, language, message):
    response = APIClient(HTTP_ACCEPT_LANGUAGE=language).get(f"{API}/projects/")
    assert response.json() == {"error": {"code": "not_authenticated", "message": message}}


def test_not_found_in_chinese(api_client, manager):
    response = api_client(manager, "zh-hans").get(f"{API}/projects/P424242/")
    assert response.json() == {"error": {"code": "not_found", "message": "未找到。"}}


def test_validation_error_shape(api_client, officer, lead_unit):
    response = api_client(officer).post(
        f"{API}/projects/", {"lead_unit": lead_unit.pk, "estimated_value": "-5"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"]
    assert set(error["fields"]) >= {"estimated_value"}
    assert all(isinstance(messages, list) for messages in error["fields"].values())


def test_malformed_json_is_400_in_error_shape(api_client, officer):
    response = api_client(officer).generic(
        "POST", f"{API}/projects/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_unsupported_media_type_is_415_in_error_shape(api_client, officer):
    response = api_client(officer).generic(
        "POST", f"{API}/projects/", "a=b", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_method_not_allowed_in_error_shape(api_client, manager, project):
    response = api_client(manager).delete(f"{API}/projects/{project.code}/")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert Project_exists(project.code)


def Project_exists(code):
    from projects.models import Project

    return Project.objects.filter(code=code).exists()


# --- Limits --------------------------------------------------------------------------------


def test_oversized_body_is_413_and_nothing_written(api_client, officer, lead_unit, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    from projects.models import Project

    before = Project.objects.count()
    response = api_client(officer).post(
        f"{API}/projects/", {"title_zh": "长" * 2000, "lead_unit": lead_unit.pk}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert Project.objects.count() == before


def test_throttled_per_token_and_per_user(manager, settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100/minute", "user": "5/minute", "token": "3/minute"},
    }
    _, first = issue_token(user=manager, name="a")
    _, second = issue_token(user=manager, name="b")
    try:
        codes = [bearer(first).get(f"{API}/me/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]  # the token's own limit
        more = [bearer(second).get(f"{API}/me/").status_code for _ in range(3)]
        assert more == [200, 429, 429]  # the user's limit counts both tokens
        response = bearer(second).get(f"{API}/me/")
        assert response.json()["error"]["code"] == "throttled"
        assert int(response["Retry-After"]) > 0
    finally:
        cache.clear()
