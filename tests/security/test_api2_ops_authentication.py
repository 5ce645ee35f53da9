"""OWASP API2:2023 Broken Authentication: login lockout, bad-token floods, token expiry,
deactivated users' tokens, token records that outlive their user."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone

from registry.authentication import issue_token
from registry.models import ApiToken
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "pw-for-tests-1"


@pytest.fixture
def lockout_settings(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = 0.5
    return settings


def login(client, username, password, address="10.0.0.1", language="en"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE=language,
    )


@pytest.mark.parametrize(
    ("language", "title", "wait"),
    [
        ("en", "Login temporarily locked", "Try again in 30 minutes"),
        ("zh-hans", "登录暂时锁定", "30 分钟"),
    ],
)
def test_failed_logins_lock_username_and_address_with_a_translated_page(
    client, manager, lockout_settings, language, title, wait
):
    for _ in range(2):
        response = login(client, manager.username, "wrong", language=language)
        assert response.status_code == 200  # the form again, with its error
    # The third failure locks.
    assert login(client, manager.username, "wrong", language=language).status_code == 429
    # The right password no longer opens the door from this address.
    response = login(client, manager.username, PASSWORD, language=language)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert title in page
    assert wait in page
    assert "_auth_user_id" not in client.session
    # Another address is not locked for that username (username + address).
    response = login(client, manager.username, PASSWORD, address="10.0.0.2")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(manager.pk)


def test_lockout_is_per_username(client, manager, reviewer, lockout_settings):
    for _ in range(3):
        login(client, manager.username, "wrong")
    assert login(client, reviewer.username, PASSWORD).status_code == 302


def test_lockout_applies_to_any_login_form_using_django_auth(rf, manager, lockout_settings):
    """A login form built on django.contrib.auth (as the portal's will be) is covered by
    the axes backend: authenticate() refuses the locked pair whatever the view."""
    from django.contrib.auth import authenticate

    for _ in range(3):
        request = rf.post("/any/login/", REMOTE_ADDR="10.9.9.9")
        assert authenticate(request, username=manager.username, password="x") is None
    request = rf.post("/any/login/", REMOTE_ADDR="10.9.9.9")
    assert authenticate(request, username=manager.username, password=PASSWORD) is None
    other = rf.post("/any/login/", REMOTE_ADDR="10.9.9.8")
    assert authenticate(other, username=manager.username, password=PASSWORD) == manager


def test_success_before_the_limit_resets_the_count(client, manager, lockout_settings):
    for _ in range(2):
        login(client, manager.username, "wrong")
    assert login(client, manager.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        login(client, manager.username, "wrong")
    assert login(client, manager.username, PASSWORD).status_code == 302


# --- a stream of bad tokens or anonymous requests meets 429 --------------------------------


@pytest.fixture
def low_unauthenticated_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "unauthenticated": "5/minute",
        },
    }


def test_stream_of_bad_tokens_meets_429(client, manager, low_unauthenticated_rate):
    url = reverse("api:project-list")
    for i in range(5):
        response = client.get(
            url, HTTP_AUTHORIZATION=f"Bearer reg_wrong{i}", REMOTE_ADDR="10.1.1.1"
        )
        assert response.status_code == 401
    response = client.get(url, HTTP_AUTHORIZATION="Bearer reg_wrong9", REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "too_many_unauthenticated_requests"
    # Even a right token from that address waits: the address is refused before
    # authentication, so guessing cannot go on under the cover of a valid token.
    _, secret = issue_token(user=manager, name="t")
    assert (
        client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}", REMOTE_ADDR="10.1.1.1").status_code
        == 429
    )
    # Other addresses are not affected.
    assert (
        client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}", REMOTE_ADDR="10.1.1.2").status_code
        == 200
    )


def test_stream_of_anonymous_requests_meets_429(client, low_unauthenticated_rate):
    url = reverse("api:project-list")
    codes = [client.get(url, REMOTE_ADDR="10.2.2.2").status_code for _ in range(7)]
    assert codes == [401] * 5 + [429] * 2


def test_lockout_message_is_translated(client, low_unauthenticated_rate):
    url = reverse("api:project-list")
    for _ in range(5):
        client.get(url, REMOTE_ADDR="10.3.3.3")
    response = client.get(url, REMOTE_ADDR="10.3.3.3", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 429
    assert "秒" in response.json()["error"]["message"]


# --- token lifetime --------------------------------------------------------------------


def test_tokens_expire_after_90_days_by_default(manager):
    token, _ = issue_token(user=manager, name="default")
    remaining = token.expires_at - timezone.now()
    assert timedelta(days=89) < remaining <= timedelta(days=90)


def test_issue_token_command_defaults_to_90_days_and_caps_at_365(manager):
    call_command("issue_token", manager.username, stdout=io.StringIO(), stderr=io.StringIO())
    token = ApiToken.objects.get(user=manager)
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    call_command(
        "issue_token", manager.username, "--days", "365", stdout=io.StringIO(), stderr=io.StringIO()
    )
    with pytest.raises(CommandError, match="365"):
        call_command("issue_token", manager.username, "--days", "366", stdout=io.StringIO())
    with pytest.raises(ValueError):
        issue_token(user=manager, name="forever", days=10_000)


def test_expired_token_is_refused(client, manager):
    token, secret = issue_token(user=manager, name="old", days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("api:project-list"), HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401


def test_admin_cannot_extend_a_token_past_365_days(client, admin_user, manager):
    token, _ = issue_token(user=manager, name="t")
    client.force_login(admin_user)
    url = reverse("admin:registry_apitoken_change", args=[token.pk])
    later = timezone.localtime() + timedelta(days=400)
    response = client.post(
        url,
        {
            "name": "t",
            "expires_at_0": later.date().isoformat(),
            "expires_at_1": later.time().strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 200
    assert "expires_at" in response.context["adminform"].form.errors
    token.refresh_from_db()
    assert token.expires_at - timezone.now() <= timedelta(days=90)


def test_deactivated_users_tokens_are_refused(client, manager):
    _, secret = issue_token(user=manager, name="t")
    url = reverse("api:project-list")
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    manager.is_active = False
    manager.save()
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    with pytest.raises(ValueError):
        issue_token(user=manager, name="again")


def test_token_records_survive_their_user(client, manager, admin_user):
    token, _ = issue_token(user=manager, name="audit")
    with pytest.raises(ProtectedError):
        get_user_model().objects.filter(pk=manager.pk).delete()
    client.force_login(admin_user)
    response = client.post(reverse("admin:auth_user_delete", args=[manager.pk]), {"post": "yes"})
    assert get_user_model().objects.filter(pk=manager.pk).exists()
    assert ApiToken.objects.filter(pk=token.pk).exists()
    assert response.status_code in (200, 403)


def test_partner_user_locked_out_too(client, lockout_settings, foreign_partner):
    partner = make_user("locked-partner", "partner", foreign_partner, is_staff=False)
    for _ in range(3):
        login(client, partner.username, "wrong")
    assert login(client, partner.username, PASSWORD).status_code == 429
