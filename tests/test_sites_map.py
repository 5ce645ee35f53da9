"""The corridor map in Chromium: on the dashboard, countries shaded and sites drawn from
the vendored boundaries, in Chinese and in English; clicking a point opens its project;
the project page's sites inline has its map. Screenshots go to test-output/."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from projects.sites import services
from tests import factories
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTPUT = Path(django_settings.BASE_DIR) / "test-output"


@pytest.fixture
def browser(monkeypatch, settings):
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


@pytest.fixture
def corridor(lead_unit, officer):
    laos = factories.ProjectFactory(
        status="in_progress", lead_unit=lead_unit, countries=[("LA", 60), ("CN", 40)]
    )
    uae = factories.ProjectFactory(status="selected", lead_unit=lead_unit, countries=[("AE", 100)])
    services.site_add(
        actor=officer,
        project=laos,
        data={
            "name_zh": "万象陆港",
            "name_en": "Vientiane Logistics Park",
            "latitude": "17.8812",
            "longitude": "102.6939",
            "country": "LA",
            "facility_type": "dry_port",
        },
    )
    services.site_add(
        actor=officer,
        project=laos,
        data={
            "name_zh": "钦州港",
            "name_en": "Qinzhou Port",
            "latitude": "21.6830",
            "longitude": "108.6260",
            "country": "CN",
            "facility_type": "port",
        },
    )
    services.site_add(
        actor=officer,
        project=uae,
        data={
            "name_zh": "杰贝阿里海外仓",
            "name_en": "Jebel Ali overseas warehouse",
            "latitude": "25.0108",
            "longitude": "55.0617",
            "country": "AE",
            "facility_type": "overseas_warehouse",
        },
    )
    return laos, uae


# The strict policy the map must work under: no inline or eval'd script, data only from
# this origin. (Styles are left to the page's own templates.)
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'"
)


def with_strict_csp(page, violations):
    """Serve every page of the test under STRICT_CSP (added to the real responses), and
    collect the browser's CSP reports."""

    def add_header(route):
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    page.route("**/admin/**", add_header)
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and violations.append(message.text)
        ),
    )


def log_in(page, base_url, user, next_url):
    page.goto(f"{base_url}/admin/login/?next={next_url}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_url}")


def map_option(page, selector):
    return page.evaluate(
        """(selector) => {
            const option = echarts.getInstanceByDom(document.querySelector(selector)).getOption();
            return {
                countries: option.series[0].data.map((d) => d.name),
                points: option.series.slice(1).flatMap((s) => s.data.map((d) => d.name)),
            };
        }""",
        selector,
    )


@pytest.mark.parametrize(
    ("locale", "laos", "point", "region"),
    [
        ("en-US", "Laos", "Vientiane Logistics Park", "West Asia"),
        ("zh-CN", "老挝", "万象陆港", "西亚"),
    ],
)
def test_dashboard_map_in_both_languages(
    live_server, browser, manager, corridor, locale, laos, point, region
):
    errors = []
    violations = []
    page = browser.new_page(locale=locale, viewport={"width": 1400, "height": 1600})
    page.on("pageerror", lambda error: errors.append(str(error)))
    with_strict_csp(page, violations)
    log_in(page, live_server.url, manager, "/admin/dashboard/")
    page.wait_for_selector("#chart-map .site-map[data-ready='1']", timeout=20000)
    element = page.locator("#chart-map .site-map")
    assert element.get_attribute("data-countries") == "3"  # LA, CN, AE
    assert element.get_attribute("data-points") == "3"
    # Drawn: the boundaries (SVG paths, one or more per country) and the points.
    assert page.locator("#chart-map svg path").count() > 200
    drawn = map_option(page, "#chart-map .site-map")
    assert laos in drawn["countries"] and point in drawn["points"]
    # Coverage beside the map: one overseas warehouse in West Asia; South Asia has none.
    assert region in page.locator("#chart-map .site-coverage").inner_text()
    assert page.locator("#chart-map tr[data-region='145'] td").nth(2).inner_text() == "1"
    assert page.locator("#chart-map tr[data-region='034'] td").nth(2).inner_text() == "0"
    OUTPUT.mkdir(exist_ok=True)
    page.locator("#chart-map").screenshot(path=str(OUTPUT / f"sites-map-{locale}.png"))
    assert errors == [] and violations == []


def test_clicking_a_point_opens_its_project(live_server, browser, manager, corridor):
    _laos, uae = corridor
    page = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 1600})
    log_in(page, live_server.url, manager, "/admin/dashboard/")
    page.wait_for_selector("#chart-map .site-map[data-ready='1']", timeout=20000)
    # Where ECharts put the Jebel Ali point, in page pixels.
    x, y = page.evaluate(
        """() => {
            const element = document.querySelector('#chart-map .site-map');
            const chart = echarts.getInstanceByDom(element);
            const [px, py] = chart.convertToPixel({geoIndex: 0}, [55.0617, 25.0108]);
            const box = element.getBoundingClientRect();
            return [box.left + px, box.top + py];
        }"""
    )
    page.mouse.click(x, y)
    page.wait_for_url(f"**/admin/projects/project/{uae.pk}/change/")


def test_project_page_map_shows_and_places_points(live_server, browser, officer, corridor):
    laos, _uae = corridor
    page = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 2400})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    url = f"/admin/projects/project/{laos.pk}/change/"
    log_in(page, live_server.url, officer, url)
    page.wait_for_selector(".site-map--inline[data-ready='1']", timeout=20000)
    element = page.locator(".site-map--inline")
    assert element.get_attribute("data-points") == "2"
    assert element.get_attribute("data-countries") == "2"
    # Clicking the map sets the focused row's point.
    page.locator("#id_sites-0-latitude").focus()
    box = element.bounding_box()
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    # The map's click handler runs after the browser's event loop turns: wait for it.
    page.wait_for_function(
        "document.querySelector('#id_sites-0-latitude').value !== '17.881200'", timeout=10000
    )
    element.screenshot(path=str(OUTPUT / "sites-project-map.png"))
    assert errors == []
