"""OWASP API8:2023 Security Misconfiguration: forwarded headers trusted only behind a
declared proxy; a Content-Security-Policy without inline scripts on every page, checked
in Chromium, which must report no violation on any of them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from registry.authentication import issue_token
from tests import factories

pytestmark = pytest.mark.django_db


def settings_value(name: str, **env) -> str:
    """The value of a setting as a fresh process reads it from the environment."""
    environment = {k: v for k, v in os.environ.items() if k != "TRUSTED_PROXY"}
    environment.update(env, DJANGO_SETTINGS_MODULE="registry.settings")
    code = f"from django.conf import settings; print(repr(getattr(settings, {name!r}, None)))"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        cwd=django_settings.BASE_DIR,
    ).stdout.strip()


def test_forwarded_proto_is_trusted_only_behind_a_declared_proxy():
    assert settings_value("SECURE_PROXY_SSL_HEADER") == "None"
    assert settings_value("SECURE_PROXY_SSL_HEADER", TRUSTED_PROXY="1") == (
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def test_a_client_cannot_claim_https_without_a_proxy(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    # Not trusted: the request is plain HTTP and is redirected to HTTPS.
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def csp_of(response) -> str:
    return response.headers.get("Content-Security-Policy", "")


@pytest.mark.parametrize(
    "path",
    ["/admin/login/", "/api/docs/", "/api/schema/", "/api/v1/", "/api/v1/projects/"],
)
def test_every_response_carries_a_policy_without_inline_scripts(client, path):
    policy = csp_of(client.get(path, HTTP_ACCEPT="text/html"))
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe" not in directives["script-src"]
    assert "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'"


# --- in a real browser ---------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def browser(monkeypatch):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; nothing here is async.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            browser.close()


def visit_all(page, base: str, paths: list[str]) -> dict[str, list[str]]:
    """Load each page (and let its scripts run); return the CSP violations per page."""
    found: dict[str, list[str]] = {}
    current: list[str] = []

    def on_console(message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            current.append(message.text)

    page.on("console", on_console)
    for path in paths:
        current.clear()
        response = page.goto(base + path, wait_until="networkidle")
        assert response.status < 500, (path, response.status)
        # The page is under the policy (no header, no violation could ever be reported).
        assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path
        # Time for late scripts (Swagger UI builds the page after loading the schema).
        page.wait_for_timeout(200)
        if current:
            found[path] = list(current)
    return found


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_csp_violation_on_any_page(live_server, browser, manager, lead_unit, foreign_partner):
    project = factories.ProjectFactory(
        lead_unit=lead_unit,
        countries=[("LA", 100)],
        sectors=[("logistics-rail", 100)],
        partners=[(foreign_partner, "partner")],
    )
    _, secret = issue_token(user=manager, name="browser")
    base = live_server.url
    context = browser.new_context()
    page = context.new_page()
    anonymous = visit_all(page, base, ["/admin/login/", "/api/docs/", "/api/v1/"])
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    staff_pages = [
        "/admin/",
        "/admin/dashboard/",
        reverse("admin:projects_project_changelist"),
        reverse("admin:projects_project_add"),
        reverse("admin:projects_project_change", args=[project.pk]),
        reverse("admin:projects_project_history", args=[project.pk]),
        reverse("admin:partners_partner_changelist"),
        reverse("admin:auth_user_changelist"),
        reverse("admin:registry_apitoken_changelist"),
        "/api/v1/",
        "/api/v1/projects/",
        f"/api/v1/projects/{project.code}/",
        f"/api/v1/projects/{project.code}/history/",
        "/api/docs/",
    ]
    logged_in = visit_all(page, base, staff_pages)
    # A token user reading the API in the browser (the docs' "Authorize" path).
    token_context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {secret}"})
    with_token = visit_all(token_context.new_page(), base, ["/api/v1/projects/"])
    assert {**anonymous, **logged_in, **with_token} == {}
    # The docs page really ran its scripts under the policy (Swagger UI drew itself).
    page.goto(f"{base}/api/docs/", wait_until="networkidle")
    assert page.locator(".swagger-ui").count() >= 1
