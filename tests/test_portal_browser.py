"""The partner's whole path in Chromium, in English and in Chinese: log in to the portal,
find a project, post progress, create a token and use it on the API, register a webhook
and receive a correctly signed delivery on a local receiver when a manager changes the
status, revoke the token and see 401. Phone-sized viewport; screenshots in test-output/.
Uses Debian's /usr/bin/chromium, never a downloaded browser."""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from projects.models import ProgressUpdate, Project
from registry.authentication import issue_token
from tests import factories
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.webhook_receiver import Receiver

# transaction=True: the live server sees committed data; reference data is reloaded
# before each such test (conftest).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTPUT = Path(django_settings.BASE_DIR) / "test-output"

# (browser locale, button clicked on the login page or None, texts the pages show)
LANGUAGES = {
    # A Lao browser: neither Chinese nor English is offered, so the portal speaks English.
    "en": ("lo-LA", None, {"projects": "Your projects", "copy": "shown only once"}),
    # The language switch picks Chinese, and the choice is remembered.
    "zh-hans": ("en-US", "中文", {"projects": "你的项目", "copy": "只显示这一次"}),
}


@pytest.fixture
def browser(monkeypatch, settings):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.REGISTRY_WEBHOOK_ALLOW_PRIVATE = True
    settings.REGISTRY_WEBHOOK_ALLOW_HTTP = True
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def api(url, token, method="GET", body=None, headers=None):
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                 **(headers or {})},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"{}")


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_partner_whole_path(live_server, browser, partner_user, manager, lead_unit,
                            foreign_partner, language):  # fmt: skip
    locale, switch, texts = LANGUAGES[language]
    project = factories.ProjectFactory(
        status="selected", lead_unit=lead_unit, title_en="Vientiane dry port cold chain",
        title_zh="万象陆港冷链", countries=[("LA", 100)], sectors=[("logistics-rail", 100)],
        partners=[(foreign_partner, "partner")],
    )  # fmt: skip
    factories.ProjectFactory(status="submitted", lead_unit=lead_unit,
                             partners=[(foreign_partner, "partner")])  # fmt: skip
    draft = factories.ProjectFactory(lead_unit=lead_unit, partners=[(foreign_partner, "partner")])
    OUTPUT.mkdir(exist_ok=True)
    shot = lambda name: page.screenshot(  # noqa: E731
        path=str(OUTPUT / f"portal-{language}-{name}.png"), full_page=True
    )

    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
    page = context.new_page()
    base = live_server.url

    # Log in.
    page.goto(f"{base}/portal/")
    page.wait_for_url("**/portal/login/**")
    if switch:
        page.click(f"#language-switch button:has-text('{switch}')")
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == language
    shot("1-login")
    page.fill("#id_username", partner_user.username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("#login")
    page.wait_for_url(f"{base}/portal/")
    assert texts["projects"] in page.content()
    assert draft.code not in page.content()

    # Find the project and post progress.
    page.fill("#id_q", "万象陆港" if language == "zh-hans" else "dry port")
    page.click("#project-search button[type=submit]")
    page.click(f"text={project.code}")
    page.wait_for_url(f"**/portal/projects/{project.code}/")
    page.fill("#id_note", "First container train left Vientiane / 首列班列已从万象发出")
    page.click("#post-progress")
    page.wait_for_url(f"**/portal/projects/{project.code}/")
    assert "首列班列已从万象发出" in page.locator("#progress-updates").inner_text()
    assert ProgressUpdate.objects.get(project=project).partner == foreign_partner
    shot("2-project")

    # A token of its own, used on the API.
    page.click("header a[href='/portal/tokens/']")
    page.fill("#id_name", "ERP")
    page.click("#create-token")
    assert texts["copy"] in page.content()
    secret = page.locator("#token-secret").inner_text().strip()
    shot("3-token")
    status, _, listing = api(f"{base}/api/v1/projects/", secret)
    assert status == 200
    codes = {row["code"] for row in listing["results"]}
    assert project.code in codes and draft.code not in codes

    # A webhook endpoint on a receiver on this machine.
    with Receiver() as receiver:
        page.click("header a[href='/portal/webhooks/']")
        page.fill("#id_url", receiver.url)
        page.check("input[value='project.status_changed']")
        page.click("#create-webhook")
        webhook_secret = page.locator("#webhook-secret").inner_text().strip()
        shot("4-webhook")

        # A manager starts implementation through the API.
        _token, manager_secret = issue_token(user=manager, name="office", days=1)
        detail = f"{base}/api/v1/projects/{project.code}/"
        status, headers, _ = api(detail, manager_secret)
        status, _, _ = api(
            f"{detail}transitions/", manager_secret, method="POST",
            body={"action": "start_implementation"}, headers={"If-Match": headers["ETag"]},
        )  # fmt: skip
        assert status == 200
        (request,) = receiver.wait_for(1)
        header = request["headers"]["Registry-Signature"]
        fields = dict(part.split("=", 1) for part in header.split(","))
        assert abs(time.time() - int(fields["t"])) < 60
        expected = hmac.new(
            webhook_secret.encode(), f"{fields['t']}.".encode() + request["body"], hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(expected, fields["v1"])
        event = json.loads(request["body"])
        assert event["type"] == "project.status_changed"
        assert event["data"]["project"]["code"] == project.code
        assert event["data"]["project"]["status"] == "in_progress"
        assert "internal_notes" not in event["data"]["project"]

    page.click("#endpoints a")
    assert event["id"] in page.locator("#deliveries").inner_text()
    shot("5-deliveries")

    # Revoke the token: the API answers 401.
    page.click("header a[href='/portal/tokens/']")
    page.locator(f"#tokens tr[data-prefix='{secret[:10]}'] button").click()
    page.wait_for_url("**/portal/tokens/")
    shot("6-revoked")
    status, _, error = api(f"{base}/api/v1/projects/", secret)
    assert status == 401
    assert error["error"]["code"] == "authentication_failed"
    assert Project.objects.get(pk=project.pk).status == "in_progress"
    context.close()
