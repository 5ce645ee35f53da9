"""The screening desk in Chromium, in Chinese and in English: the project list, a project
page, the add form, the history and the dashboard show no English interface text in
Chinese and no raw codes in either language, run without a Content-Security-Policy
violation, and the dashboard's charts lead to the filtered list. Screenshots go to
test-output/. Debian's /usr/bin/chromium, never a downloaded browser."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from projects import services
from tests import factories
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, click_bar

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTPUT = Path(django_settings.BASE_DIR) / "test-output"
# Interface text that must never show on a page in Chinese: Django's and the desk's own
# strings that once slipped through untranslated. Matched as whole phrases.
ENGLISH_UI = (
    "- Select an option -",
    "Filter by",
    "Enter times in",
    "Api Root",
    "Project List",
    "Home",
    "Dashboard",
    "Screening queue",
    "History",
    "Apply",
    "Clear",
    "Figures",
    "Save as PNG",
    "record created",
    "record changed",
    "estimated value",
    "selection rate",
    "Log out",
    "Search",
)
# Raw codes that must show in no language.
RAW = (
    re.compile(r"\d(\.\d+)?E\+\d+%"),
    re.compile(r"transition:\d+"),
    re.compile(r"\b(start_screening|not_select|start_implementation)\b"),
    re.compile(r"_has_currency|_not_negative|_in_order"),
)
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}


@pytest.fixture
def browser(monkeypatch):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, language, **options):
    page = browser.new_page(
        locale=LOCALES[language], viewport={"width": 1440, "height": 900}, **options
    )
    page.csp_violations = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.csp_violations.append(message.text)
        ),
    )
    return page


def log_in(page, base_url, user, next_url):
    page.goto(f"{base_url}/admin/login/?next={next_url}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_url}")


def check_page(page, language: str, name: str) -> str:
    """The page's visible text, after checking it; a screenshot either way."""
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"desk-{name}-{language}.png"), full_page=True)
    text = page.evaluate("() => document.body.innerText")
    assert not page.csp_violations, page.csp_violations
    for pattern in RAW:
        assert not pattern.search(text), (name, pattern.pattern)
    if language == "zh-hans":
        found = [phrase for phrase in ENGLISH_UI if re.search(rf"\b{re.escape(phrase)}\b", text)]
        assert not found, (name, found)
    return text


@pytest.fixture
def desk_pool(lead_unit, officer, manager):
    project = factories.ProjectFactory(
        lead_unit=lead_unit,
        countries=[("VN", 100)],
        sectors=[("logistics-rail", 100)],
        estimated_value=Decimal("2632000000.00"),
        currency="CNY",
        created_by=officer,
    )
    services.project_transition(project=project, actor=officer, action="submit")
    services.project_transition(project=project, actor=manager, action="start_screening")
    project.refresh_from_db()
    return project


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_manager_pages_read_right(live_server, browser, manager, desk_pool, language):
    page = open_page(browser, language)
    log_in(page, live_server.url, manager, "/admin/projects/project/")

    text = check_page(page, language, "changelist")
    assert ("越南 100%" if language == "zh-hans" else "Vietnam 100%") in text
    # The title column is readable: wider than a few characters at 1440 px.
    width = page.locator("#result_list td.field-display_title").first.bounding_box()["width"]
    assert width > 200
    # Nothing is cut off: the table fits the window.
    table = page.locator("#result_list").bounding_box()
    assert table["x"] + table["width"] <= 1440

    page.goto(f"{live_server.url}/admin/projects/project/{desk_pool.pk}/change/")
    check_page(page, language, "project")
    page.goto(f"{live_server.url}/admin/projects/project/{desk_pool.pk}/history/")
    check_page(page, language, "history")

    page.goto(f"{live_server.url}/admin/dashboard/")
    page.wait_for_selector("#chart-funnel .echart[data-ready='1']", timeout=20000)
    text = check_page(page, language, "dashboard")
    assert "2632000000.00" not in text
    click_bar(page, "#chart-funnel .echart", "status__exact=screening")
    page.wait_for_url("**/admin/projects/project/?status__exact=screening")
    assert desk_pool.code in page.content()
    check_page(page, language, "dashboard-to-list")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_officer_add_form_reads_right(live_server, browser, officer, lead_unit, language):
    # A browser clock far from the server's: date-only fields still carry no timezone note.
    page = open_page(browser, language, timezone_id="America/New_York")
    log_in(page, live_server.url, officer, "/admin/projects/project/add/")
    page.wait_for_load_state("load")
    check_page(page, language, "officer-add")
    assert page.locator(".timezonewarning:visible").count() == 0
    # The officer's only unit is chosen; currency is a select of ISO codes.
    assert page.locator("#id_lead_unit").input_value() == str(lead_unit.pk)
    assert page.locator("select#id_currency option[value='CNY']").count() == 1

    page.goto(f"{live_server.url}/admin/projects/project/")
    check_page(page, language, "officer-changelist")
    assert page.locator("a[href$='/screening-queue/']").count() == 0
