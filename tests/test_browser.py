"""In Chromium: a manager logs in, opens the dashboard, sees the charts, follows a bar to
the project changelist. Uses Debian's /usr/bin/chromium, never a downloaded browser."""

import importlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.urls import clear_url_caches
from django.utils import timezone

from projects.models import Project, StatusChange
from tests import factories

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path(django_settings.BASE_DIR) / "test-output" / "dashboard.png"


@pytest.fixture
def project_changelist():
    """The project changelist the bars link to. projects.admin.project registers the real one;
    until it exists a bare ModelAdmin stands in (status__exact is a local field, which
    any ModelAdmin accepts)."""
    import registry.urls

    if admin.site.is_registered(Project):
        yield
        return
    admin.site.register(Project)
    importlib.reload(registry.urls)
    clear_url_caches()
    try:
        yield
    finally:
        admin.site.unregister(Project)
        importlib.reload(registry.urls)
        clear_url_caches()


@pytest.fixture
def page(monkeypatch, settings):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM would refuse
    # to run here beside it, although nothing is actually asynchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1800})
        finally:
            browser.close()


def test_manager_follows_a_bar_from_the_dashboard(
    live_server, project_changelist, page, manager, lead_unit
):
    submitted = factories.ProjectFactory(
        status="submitted", lead_unit=lead_unit, countries=[("LA", 100)],
        sectors=[("logistics-rail", 100)],
    )  # fmt: skip
    draft = factories.ProjectFactory(
        status="draft", lead_unit=lead_unit, countries=[("KZ", 100)], sectors=[("education", 100)]
    )
    for days_ago, to_status in ((70, "submitted"), (40, "screening"), (35, "not_selected")):
        StatusChange.objects.create(
            project=submitted if to_status == "submitted" else draft,
            action=to_status,
            to_status=to_status,
            created_at=timezone.now() - timedelta(days=days_ago),
        )

    # The session cookie is Secure (DEBUG is off): Chromium accepts it on
    # http://localhost, which it treats as a secure origin.
    page.goto(f"{live_server.url}/admin/login/?next=/admin/dashboard/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/dashboard/")

    for chart in ("chart-funnel", "chart-sectors", "chart-regions", "chart-trend"):
        page.wait_for_selector(f"#{chart} .echart[data-ready='1']", timeout=20000)
        assert page.locator(f"#{chart} .echart canvas").count() >= 1
    assert page.locator("#chart-balance svg").count() >= 1
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    click_bar(page, "#chart-funnel .echart", "submitted")
    page.wait_for_url("**/admin/projects/project/?status__exact=submitted")
    changelist = page.content()
    assert submitted.code in changelist
    assert draft.code not in changelist


def click_bar(page, selector: str, link_part: str) -> None:
    """Click, with the mouse, the bar whose link contains `link_part` (ECharts draws on a
    canvas: the bar's place comes from the chart's own coordinate conversion)."""
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    x, y = page.evaluate(
        """([selector, part]) => {
            const spec = JSON.parse(document.getElementById("dashboard-charts").textContent)
                .charts[document.querySelector(selector).dataset.chart];
            const index = spec.links.findIndex((link) => link.includes(part));
            const chart = echarts.getInstanceByDom(document.querySelector(selector));
            const [x0, y0] = chart.convertToPixel({seriesIndex: 0}, [0, index]);
            const [x1] = chart.convertToPixel({seriesIndex: 0}, [spec.values[index], index]);
            return [(x0 + x1) / 2, y0];
        }""",
        [selector, link_part],
    )
    page.mouse.click(box["x"] + x, box["y"] + y)
