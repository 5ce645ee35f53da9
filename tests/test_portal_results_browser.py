"""A partner reports an indicator's actual in the portal, in Chromium, in English and in
Chinese: log in, open the project, see the period open, submit a bad figure and see the
error, then a good one and see the period reported. Screenshots in test-output/."""

from datetime import date
from decimal import Decimal

import pytest

from projects.results import services
from projects.results.models import Period
from tests import factories
from tests.test_portal_browser import OUTPUT, browser  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# (browser locale, button of the language switch or None, texts the pages show)
LANGUAGES = {
    "en": ("en-US", None, {"report": "Report actual", "error": "Give the actual figure.",
                            "reported": "reported", "title": "Containers moved"}),
    "zh-hans": ("en-US", "中文", {"report": "报告实际值", "error": "请填写实际值。",
                                   "reported": "已报告", "title": "集装箱运量"}),
}  # fmt: skip


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_partner_reports_an_actual(live_server, browser, partner_user, officer, lead_unit,  # noqa: F811
                                   foreign_partner, language):  # fmt: skip
    locale, switch, texts = LANGUAGES[language]
    project = factories.ProjectFactory(
        status="in_progress", lead_unit=lead_unit, countries=[("LA", 100)],
        sectors=[("logistics-rail", 100)], partners=[(foreign_partner, "partner")],
    )  # fmt: skip
    result = services.result_create(
        project=project, actor=officer, type="output", title_zh="集装箱运量",
        title_en="Containers moved",
        indicators=[services.IndicatorData(
            title_zh="海铁联运箱量", title_en="Sea-rail containers", unit="TEU",
            periods=[services.PeriodData(period_start=date(2025, 1, 1),
                                         period_end=date(2025, 12, 31),
                                         target_value=Decimal("960000"))],
        )],
    )  # fmt: skip
    period = Period.objects.get(indicator__result=result)
    OUTPUT.mkdir(exist_ok=True)
    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
    page = context.new_page()
    base = live_server.url

    page.goto(f"{base}/portal/")
    page.wait_for_url("**/portal/login/**")
    if switch:
        page.click(f"#language-switch button:has-text('{switch}')")
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == language
    page.fill("#id_username", partner_user.username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("#login")
    page.wait_for_url(f"{base}/portal/")

    page.goto(f"{base}/portal/projects/{project.code}/")
    assert texts["title"] in page.locator("#results").inner_text()
    page.click(f"#period-{period.pk} a.report-actual")
    page.wait_for_url(f"**/periods/{period.pk}/report/")
    assert texts["report"] in page.locator("h1").inner_text()

    # No figure: the form comes back with the service's error, nothing saved.
    page.fill("#id_actual_value", "")
    page.click("#report-actual")
    page.wait_for_load_state()
    assert texts["error"] in page.locator("#actual-form").inner_text()
    period.refresh_from_db()
    assert period.status == "open"

    page.fill("#id_actual_value", "812000")
    page.fill("#id_actual_comment", "Rail share / 铁路部分")
    page.click("#report-actual")
    page.wait_for_url(f"**/portal/projects/{project.code}/")
    row = page.locator(f"#period-{period.pk}")
    assert texts["reported"] in row.inner_text() and "812000" in row.inner_text()
    page.screenshot(path=str(OUTPUT / f"portal-results-{language}.png"), full_page=True)
    period.refresh_from_db()
    assert (period.status, period.actual_value) == ("reported", Decimal("812000"))
    assert period.reporting_partner == foreign_partner
    context.close()
