"""The screening desk in Chromium, in Chinese and in English: the project list, a project
page, the add form, the history and the dashboard show no English interface text in
Chinese and no raw codes in either language, run without a Content-Security-Policy
violation, and the dashboard's charts lead to the filtered list. Screenshots go to
test-output/. Debian's /usr/bin/chromium, never a downloaded browser."""

import csv
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.utils import translation

from projects import services, workflow
from projects.models import Project, Review, Status, SupportDecision
from registry.models import Country, Sector
from tests import factories, ui_text
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, click_bar

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTPUT = Path(django_settings.BASE_DIR) / "test-output"
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
        found = ui_text.problems(text)
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
def test_manager_pages_read_right(
    live_server, browser, manager, reviewer, second_reviewer, desk_pool, language
):
    from tests.test_reviews_support import review

    # A round with a long comment: the decision panel must still fit the window.
    review(desk_pool, reviewer, comment="供应链联动明显 " * 40)
    review(desk_pool, second_reviewer, comment="Strong rail link; " * 30)
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

    # The lead unit is searched, not listed: type part of its name, pick it, the list
    # filters at once (the admin's Select2, under the strict CSP).
    unit = in_language(language, lambda: desk_pool.lead_unit.name)
    page.click("details.search-filter:has(#filter-lead_unit) > summary")
    pick_autocomplete(page, "filter-lead_unit", unit)
    page.wait_for_url(f"**lead_unit={desk_pool.lead_unit_id}*")
    assert desk_pool.code in page.locator("#result_list").inner_text()
    assert unit in page.locator("details.search-filter:has(#filter-lead_unit)").inner_text()
    check_page(page, language, "changelist-lead-unit")

    page.goto(f"{live_server.url}/admin/projects/project/{desk_pool.pk}/change/")
    check_page(page, language, "project")
    page.goto(f"{live_server.url}/admin/projects/project/{desk_pool.pk}/history/")
    check_page(page, language, "history")

    # The decision panel widens no page, on a laptop screen either (the dashboard and
    # its charts: test_path_manager_filters_the_dashboard_and_follows_a_chart).
    for width in (1440, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/admin/projects/project/{desk_pool.pk}/change/")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        panel = page.locator("#decision-panel").bounding_box()
        assert panel["x"] + panel["width"] <= width
        check_page(page, language, f"project-{width}")


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


# --- The paths people walk, one test each, in both languages --------------------------------
# Each step's screenshot is test-output/desk-path-<path>-<step>-<language>.png.

LANGUAGES = ["zh-hans", "en"]
QUEUE = "/admin/projects/project/screening-queue/"


def change_url(project) -> str:
    return f"/admin/projects/project/{project.pk}/change/"


def pick_autocomplete(page, select_id: str, label: str) -> None:
    """Choose in one of the admin's autocomplete selects (Select2) as a person does."""
    page.click(f"#{select_id} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", label)
    page.locator(".select2-results__option", has_text=label).first.click()


def confirm_transition(page, language: str, action: str, name: str) -> None:
    """Press the action's button on the project page, read the confirmation, confirm."""
    page.click(f"#decision-actions a[data-action='{action}']")
    page.wait_for_selector("#transition-form")
    check_page(page, language, f"{name}-confirm")
    page.click("#transition-form input[type=submit]")
    page.wait_for_selector("#decision-panel")
    assert page.locator(".messagelist .success").count() == 1


def in_language(language: str, make) -> str:
    """What `make()` says in that language (names are read in the active language)."""
    with translation.override(language):
        return str(make())


@pytest.mark.parametrize("language", LANGUAGES)
def test_path_officer_creates_and_submits(live_server, browser, officer, lead_unit, language):
    page = open_page(browser, language)
    log_in(page, live_server.url, officer, "/admin/projects/project/add/")
    check_page(page, language, "path-a-1-add")
    page.fill("#id_title_zh", "澜湄职业教育合作项目")
    page.fill("#id_title_en", "Lancang-Mekong vocational training")
    page.select_option("#id_kind", "project")
    page.fill("#id_estimated_value", "2500000")
    page.select_option("#id_currency", "CNY")
    laos = in_language(language, lambda: Country.objects.get(pk="LA").name)
    page.click("#project_countries-group .add-row a")
    pick_autocomplete(page, "id_project_countries-0-country", laos)
    page.fill("#id_project_countries-0-share", "60")
    sector = Sector.objects.get(code="education")
    page.click("#project_sectors-group .add-row a")
    sector_label = in_language(language, lambda: sector)
    pick_autocomplete(page, "id_project_sectors-0-sector", sector_label)
    page.fill("#id_project_sectors-0-share", "100")
    check_page(page, language, "path-a-2-filled")

    # Shares of 60: refused, the error beside the countries' rows, nothing saved.
    page.click("input[name=_continue]")
    page.wait_for_selector(".errornote")
    error = page.locator("#project_countries-group .errorlist")
    assert error.count() >= 1 and "100" in error.first.inner_text()
    assert page.locator("#project_sectors-group .errorlist").count() == 0
    check_page(page, language, "path-a-3-share-error")
    assert not Project.objects.filter(title_en="Lancang-Mekong vocational training").exists()

    page.fill("#id_project_countries-0-share", "100")
    page.click("input[name=_continue]")
    page.wait_for_selector("#submit-checklist")
    project = Project.objects.get(title_en="Lancang-Mekong vocational training")
    assert project.lead_unit == lead_unit and project.status == Status.DRAFT
    # Everything `submit` needs is ticked.
    assert page.locator("#submit-checklist li.missing").count() == 0
    check_page(page, language, "path-a-4-saved")

    confirm_transition(page, language, "submit", "path-a-5")
    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    assert page.locator("#submit-checklist").count() == 0
    check_page(page, language, "path-a-6-submitted")


@pytest.mark.parametrize("language", LANGUAGES)
def test_path_manager_starts_screening(live_server, browser, officer, manager, project, language):
    services.project_transition(project=project, actor=officer, action="submit")
    page = open_page(browser, language)
    log_in(page, live_server.url, manager, change_url(project))
    check_page(page, language, "path-b-1-submitted")
    confirm_transition(page, language, "start_screening", "path-b-2")
    project.refresh_from_db()
    assert (project.status, project.screening_round) == (Status.SCREENING, 1)
    text = check_page(page, language, "path-b-3-screening")
    with translation.override(language):
        assert workflow.status_label(Status.SCREENING) in text


def fill_review(page, scores: dict, recommendation: str, declaration: str = "none") -> None:
    for name, score in scores.items():
        page.check(f"input[name='{name}'][value='{score}']")
    page.select_option("#id_recommendation", recommendation)
    page.fill("#id_comment", "供应链联动明显")
    page.check(f"input[name='conflict_declaration'][value='{declaration}']")


@pytest.mark.parametrize("language", LANGUAGES)
def test_path_two_reviewers_score_without_seeing_each_other(
    live_server, browser, officer, manager, reviewer, second_reviewer, project, language
):
    services.project_transition(project=project, actor=officer, action="submit")
    services.project_transition(project=project, actor=manager, action="start_screening")
    row = f"#screening-queue tr[data-code='{project.code}']"

    first = open_page(browser, language)
    log_in(first, live_server.url, reviewer, QUEUE)
    check_page(first, language, "path-c-1-queue")
    first.click(f"{row} a.button")
    first.wait_for_selector("#review-form")
    # Nothing chosen in advance, the conflict-of-interest declaration included.
    assert first.locator("#id_recommendation").input_value() == ""
    assert first.locator("#review-form input[type=radio]:checked").count() == 0
    assert first.locator("#conflict-of-interest input[name=conflict_declaration]").count() == 2
    fill_review(
        first,
        {
            "strategic_fit": 5,
            "supply_chain_linkage": 4,
            "feasibility": 4,
            "partner_capacity": 3,
            "regional_balance": 5,
            "risk": 2,
        },
        "select",
    )
    check_page(first, language, "path-c-2-review-form")
    first.click("#review-form input[type=submit]")
    first.wait_for_url(f"**{QUEUE}")
    own = Review.objects.get(reviewer=reviewer).weighted_score
    shown = f"{own:.2f}"
    check_page(first, language, "path-c-3-queue-after-review")

    second = open_page(browser, language)
    log_in(second, live_server.url, second_reviewer, QUEUE)
    text = check_page(second, language, "path-c-4-queue-second-reviewer")
    assert shown not in text and shown not in second.content()
    second.click(f"{row} a.button")
    second.wait_for_selector("#review-form")
    text = check_page(second, language, "path-c-5-review-form-second-reviewer")
    assert shown not in text and shown not in second.content()
    # The second reviewer declares a conflict of interest: without saying what it is, the
    # review is refused, the error beside the note.
    fill_review(second, dict.fromkeys(Review.CRITERIA, 2), "revise", declaration="declared")
    second.click("#review-form input[type=submit]")
    second.wait_for_selector(".field-conflict_note .errorlist")
    check_page(second, language, "path-c-6-conflict-note-missing")
    assert not Review.objects.filter(reviewer=second_reviewer).exists()
    second.fill("#id_conflict_note", "本人曾任牵头单位顾问")
    second.click("#review-form input[type=submit]")
    second.wait_for_url(f"**{QUEUE}")
    conflicted = Review.objects.get(reviewer=second_reviewer)
    assert (conflicted.conflict_declaration, conflicted.conflict_note) == (
        "declared",
        "本人曾任牵头单位顾问",
    )
    # Having reviewed, the second reviewer sees the round's average: the declared conflict
    # is not counted in it, nor in the number of reviews.
    assert Review.objects.filter(project=project).count() == 2
    cells = second.locator(f"{row} td")
    assert cells.nth(3).inner_text().strip() == "1"
    assert cells.nth(4).inner_text().strip() == shown
    check_page(second, language, "path-c-7-queue-both-reviewed")


@pytest.mark.parametrize("language", LANGUAGES)
def test_path_manager_selects_and_records_support(
    live_server, browser, officer, manager, reviewer, second_reviewer, project, language
):
    from tests.test_reviews_support import review

    services.project_transition(project=project, actor=officer, action="submit")
    services.project_transition(project=project, actor=manager, action="start_screening")
    project.refresh_from_db()
    review(project, reviewer)
    review(project, second_reviewer, scores=dict.fromkeys(Review.CRITERIA, 3))

    page = open_page(browser, language)
    log_in(page, live_server.url, manager, change_url(project))
    page.wait_for_selector("#round-reviews")
    assert page.locator("#round-reviews thead th").count() == 3
    # Each review's conflict-of-interest declaration, and the rule on counting them.
    assert page.locator("#round-reviews td[data-declaration='none']").count() == 2
    assert page.locator("#conflict-rule").count() == 1
    check_page(page, language, "path-d-1-round-reviews")
    confirm_transition(page, language, "select", "path-d-2")
    project.refresh_from_db()
    assert project.status == Status.SELECTED

    page.click("#support-decisions a.button")
    page.wait_for_selector("#supportdecision-form")
    assert page.locator("#id_project").input_value() == str(project.pk)
    page.select_option("#id_kind", SupportDecision.Kind.FUNDING)
    page.fill("#id_amount", "1500000")
    page.select_option("#id_currency", "CNY")
    # The admin's date picker: "today" is one click.
    assert page.locator("#id_valid_until + .datetimeshortcuts a").count() >= 1
    page.locator("#id_valid_until + .datetimeshortcuts a").first.click()
    check_page(page, language, "path-d-3-support-form")
    page.click("#supportdecision-form input[type=submit]")
    page.wait_for_url(f"**{change_url(project)}")
    decision = SupportDecision.objects.get(project=project)
    assert (decision.amount, decision.currency, decision.decided_by) == (
        Decimal("1500000"),
        "CNY",
        manager,
    )
    assert decision.valid_until is not None
    text = check_page(page, language, "path-d-4-support-recorded")
    assert ("150万 CNY" if language == "zh-hans" else "1,500,000.00 CNY") in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_path_officer_starts_implementation_and_posts_progress(
    live_server, browser, officer, project, language
):
    from tests.test_reviews_support import in_status

    project = in_status(project, Status.SELECTED)
    page = open_page(browser, language)
    log_in(page, live_server.url, officer, change_url(project))
    check_page(page, language, "path-e-1-selected")
    confirm_transition(page, language, "start_implementation", "path-e-2")
    project.refresh_from_db()
    assert project.status == Status.IN_PROGRESS and project.actual_start is not None

    page.click("#post-progress")
    page.wait_for_selector("#progressupdate-form")
    assert page.locator("#id_project").input_value() == str(project.pk)
    page.fill("#id_note", "首列冷链班列发车")
    check_page(page, language, "path-e-3-progress-form")
    page.click("#progressupdate-form input[type=submit]")
    page.wait_for_url(f"**{change_url(project)}")
    assert project.progress_updates.get().author == officer
    text = check_page(page, language, "path-e-4-progress-posted")
    assert "首列冷链班列发车" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_path_manager_filters_the_dashboard_and_follows_a_chart(
    live_server, browser, manager, lead_unit, language
):
    asean = factories.ProjectFactory(
        lead_unit=lead_unit,
        status=Status.SCREENING,
        estimated_value=Decimal("2632000000.00"),
        countries=[("LA", 100)],
        sectors=[("logistics-rail", 100)],
    )
    elsewhere = factories.ProjectFactory(
        lead_unit=lead_unit,
        status=Status.SCREENING,
        countries=[("KZ", 100)],
        sectors=[("logistics-rail", 100)],
    )
    page = open_page(browser, language)
    log_in(page, live_server.url, manager, "/admin/dashboard/")
    page.wait_for_selector("#chart-funnel .echart[data-ready='1']", timeout=20000)
    check_page(page, language, "path-f-1-dashboard")
    page.select_option("select[name=country_group]", "asean")
    page.select_option("select[name=sector]", "logistics-rail")
    page.click(".dashboard-filters input[type=submit]")
    page.wait_for_url("**/admin/dashboard/?*country_group=asean*")
    page.wait_for_selector("#chart-funnel .echart[data-ready='1']", timeout=20000)
    text = check_page(page, language, "path-f-2-filtered")
    assert "2632000000.00" not in text

    click_bar(page, "#chart-funnel .echart", "status__exact=screening")
    page.wait_for_url("**/admin/projects/project/?*status__exact=screening*")
    assert "country_group=asean" in page.url and "sector=logistics-rail" in page.url
    listed = page.locator("#result_list").inner_text()
    assert asean.code in listed and elsewhere.code not in listed
    check_page(page, language, "path-f-3-list")


def counted_rows(path: Path, file_format: str) -> int:
    if file_format == "csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = [row for row in csv.reader(handle) if any(row)]
    else:
        sheet = openpyxl.load_workbook(path, read_only=True).active
        rows = [row for row in sheet.iter_rows(values_only=True) if any(row)]
    return len(rows) - 1  # the header


def changelist_count(page) -> int:
    """The count the changelist states under its table."""
    return int(re.search(r"\d+", page.locator("#changelist-form .paginator").inner_text())[0])


@pytest.mark.parametrize("language", LANGUAGES)
def test_path_each_export_has_the_changelist_rows(
    live_server, browser, manager, lead_unit, language
):
    for status in (Status.SUBMITTED, Status.SUBMITTED, Status.SCREENING, Status.DRAFT):
        factories.ProjectFactory(lead_unit=lead_unit, status=status, countries=[("LA", 100)])
    page = open_page(browser, language, accept_downloads=True)
    log_in(page, live_server.url, manager, "/admin/projects/project/")
    for query, expected in (("", 4), ("?status__exact=submitted", 2)):
        page.goto(f"{live_server.url}/admin/projects/project/{query}")
        count = changelist_count(page)
        assert count == expected == page.locator("#result_list tbody tr").count()
        step = "all" if not query else "filtered"
        check_page(page, language, f"path-g-{step}")
        for file_format in ("csv", "xlsx"):
            with page.expect_download() as download:
                page.click(f"a.exportlink[href*='/export/{file_format}/']")
            assert download.value.suggested_filename.endswith(f".{file_format}")
            saved = OUTPUT / f"desk-path-g-{step}-{language}.{file_format}"
            download.value.save_as(saved)
            assert counted_rows(saved, file_format) == count, (step, file_format)
