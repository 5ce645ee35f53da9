"""Self-service API tokens in the portal: create (name, expiry up to a year, default 90
days, secret shown once), list, use on the API, revoke (then 401); staff see and revoke
every token in the admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from registry.authentication import issue_token
from registry.models import ApiToken


def create(client, **data):
    return client.post(reverse("portal:tokens"), {"name": "ERP sync", "days": 90, **data})


def test_create_token_shows_the_secret_once_and_it_works_on_the_api(client, partner_user):
    client.force_login(partner_user)
    response = create(client)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    token = ApiToken.objects.get(user=partner_user)
    page = response.content.decode()
    secret = page.split('id="token-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith(token.key_prefix)
    # Listed with its prefix, created, last used and expiry; the secret is never shown again.
    listing = client.get(reverse("portal:tokens")).content.decode()
    assert token.key_prefix in listing and secret not in listing
    assert abs(token.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/projects/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_default_expiry_is_90_days(client, partner_user):
    client.force_login(partner_user)
    assert 'value="90"' in client.get(reverse("portal:tokens")).content.decode()


@pytest.mark.parametrize("days", [0, 366, -5, "", "a year"])
def test_expiry_over_a_year_or_nonsense_is_refused(client, partner_user, days):
    client.force_login(partner_user)
    response = create(client, days=days)
    assert response.status_code == 200
    assert 'id="token-secret"' not in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_year_is_allowed(client, partner_user):
    client.force_login(partner_user)
    create(client, days=365)
    token = ApiToken.objects.get()
    assert token.expires_at - timezone.now() > timedelta(days=364)


def test_empty_name_is_refused(client, partner_user):
    client.force_login(partner_user)
    create(client, name="")
    assert not ApiToken.objects.exists()


def test_revoke_then_the_api_answers_401(client, partner_user):
    client.force_login(partner_user)
    token, secret = issue_token(user=partner_user, name="ERP", days=30)
    response = client.post(reverse("portal:token-revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    response = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/projects/")
    assert response.status_code == 401


def test_another_users_token_cannot_be_revoked(client, partner_user, officer):
    token, _secret = issue_token(user=officer, name="officer's", days=30)
    client.force_login(partner_user)
    assert client.post(reverse("portal:token-revoke", args=[token.pk])).status_code == 404
    assert client.get(reverse("portal:token-revoke", args=[token.pk])).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None
    assert token.key_prefix not in client.get(reverse("portal:tokens")).content.decode()


def test_staff_see_and_revoke_every_token_in_the_admin(client, admin_user, partner_user, officer):
    mine, _ = issue_token(user=partner_user, name="partner token", days=30)
    theirs, _ = issue_token(user=officer, name="officer token", days=30)
    client.force_login(admin_user)
    changelist = reverse("admin:registry_apitoken_changelist")
    page = client.get(changelist).content.decode()
    assert "partner token" in page and "officer token" in page
    response = client.post(
        changelist, {"action": "revoke", "_selected_action": [mine.pk, theirs.pk]}
    )
    assert response.status_code == 302
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 0


def test_anonymous_cannot_reach_token_pages(client, db):
    assert client.get(reverse("portal:tokens")).status_code == 302
    assert client.post(reverse("portal:tokens"), {"name": "x", "days": 9}).status_code == 302
    assert not ApiToken.objects.exists()
