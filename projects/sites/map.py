"""Data for the map of the corridor (dashboard and project page), drawn in the browser by
`static/projects/sites/site_map.js` with Apache ECharts' map series over the vendored
boundaries. The page passes it with `json_script` (no inline script, strict CSP).

Reads only: the selection is the dashboard's (`stats.Selection`, built by `StatsFilter`
over what the user may see, `access.visible_projects`), so the map and the figures beside
it count the same projects.
"""

from django.db.models import Count, FloatField
from django.db.models.functions import Cast
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from projects.sites.models import FacilityType, Site
from registry.models import Country

WORLD_BOUNDARIES = "registry/vendor/world-geo-json-zh/world.zh.simplified.json"

# The most points one map draws; the figures beside it still count every site.
MAX_MAP_SITES = 2000

# A colour per facility type (colour-blind-safe hues first, for the commonest kinds).
FACILITY_COLOURS = {
    FacilityType.PORT: "#0072b2",
    FacilityType.INDUSTRIAL_PARK: "#d55e00",
    FacilityType.DRY_PORT: "#009e73",
    FacilityType.RAIL_TERMINAL: "#cc79a7",
    FacilityType.BORDER_CROSSING: "#e69f00",
    FacilityType.DISTRIBUTION_CENTRE: "#56b4e9",
    FacilityType.OVERSEAS_WAREHOUSE: "#7b3294",
    FacilityType.SCHOOL: "#8c510a",
    FacilityType.HOSPITAL: "#c51b7d",
    FacilityType.OFFICE: "#4d4d4d",
    FacilityType.OTHER: "#999999",
}

# The corridor's regions for the warehouse coverage figures (UN M49 sub-region codes).
COVERAGE_REGIONS = (
    ("035", "South-East Asia", "东南亚"),
    ("034", "South Asia", "南亚"),
    ("143", "Central Asia", "中亚"),
    ("145", "West Asia", "西亚"),
)
COVERAGE_TYPES = (FacilityType.DISTRIBUTION_CENTRE, FacilityType.OVERSEAS_WAREHOUSE)


def _chinese() -> bool:
    return (get_language() or "").startswith("zh")


def country_names() -> dict[str, str]:
    """ISO alpha-2 → the registry's name in the interface language. The boundaries carry
    Chinese names only; the map relabels its features with these."""
    field = "name_zh" if _chinese() else "name_en"
    return dict(Country.objects.values_list("iso2", field))


def site_map_config() -> dict:
    """What every map needs: the boundaries' URL, country names, facility types."""
    return {
        "world_url": static(WORLD_BOUNDARIES),
        "names": country_names(),
        "facility_types": [
            {"value": value, "label": str(label), "colour": FACILITY_COLOURS[value]}
            for value, label in FacilityType.choices
        ],
        "labels": {
            "projects": _("projects"),
            "sites": _("sites"),
            "no_data": _("no projects"),
            "click_to_place": _("Click the map to set the point of the selected site row."),
        },
    }


def _site_points(projects, *, limit: int) -> tuple[list[dict], bool]:
    """The current sites of `projects` as the map's points, newest projects first, at most
    `limit`. Read as sites.geojson reads them (the filtered projects joined to their
    sites; coordinates as floats from the database) and each project's admin URL made
    from one reversed URL: for the bench's whole pool of 100,000 projects, the site query
    with `project_id IN (…)`, 2,000 `reverse()` calls and Decimals took 190-265 ms, this
    60-62 ms (the same loaded machine, bench/README.md)."""
    rows = list(
        projects.filter(sites__isnull=False, sites__removed_at__isnull=True)
        .order_by("-pk", "sites__id")
        .values_list(
            "sites__name_zh",
            "sites__name_en",
            Cast("sites__latitude", FloatField()),
            Cast("sites__longitude", FloatField()),
            "sites__facility_type",
            "pk",
            "code",
        )[: limit + 1]
    )
    chinese = _chinese()
    before, _, after = reverse("admin:projects_project_change", args=[0]).rpartition("/0/")
    points = [
        {
            "name": (name_zh or name_en) if chinese else (name_en or name_zh),
            "value": [round(longitude, 6), round(latitude, 6)],
            "facility_type": facility_type,
            "project": code,
            "url": f"{before}/{project_id}/{after}",
        }
        for name_zh, name_en, latitude, longitude, facility_type, project_id, code in rows[:limit]
    ]
    return points, len(rows) > limit


def coverage(sites) -> dict:
    """Distribution centres and overseas warehouses per corridor region, and the regions
    with none, among `sites` (a Site queryset)."""
    # Counted by the database: a row per region and type, not one per site (27,000 rows
    # read into Python for the whole pool of the bench's 100,000 projects: 273 ms, now
    # 155 ms). It still reads every such site of the selection on each request.
    rows = (
        sites.filter(facility_type__in=COVERAGE_TYPES)
        .values_list("country__subregion_code", "facility_type")
        .order_by()
        .annotate(sites=Count("pk"))
    )
    counts = {(region, facility_type): n for region, facility_type, n in rows}
    chinese = _chinese()
    regions = [
        {
            "code": code,
            "label": name_zh if chinese else name_en,
            "distribution_centres": counts.get((code, FacilityType.DISTRIBUTION_CENTRE), 0),
            "overseas_warehouses": counts.get((code, FacilityType.OVERSEAS_WAREHOUSE), 0),
        }
        for code, name_en, name_zh in COVERAGE_REGIONS
    ]
    for region in regions:
        region["total"] = region["distribution_centres"] + region["overseas_warehouses"]
    return {"regions": regions, "without": [r["label"] for r in regions if not r["total"]]}


def dashboard_map(*, projects, country_counts: list[dict], country_link: str) -> dict:
    """The dashboard's map: `projects` is the selection (a queryset), `country_counts`
    its per-country counts as the dashboard computed them (`stats.summary`'s
    `by_country`), `country_link` the filtered changelist URL with `__ISO__` for the
    country."""
    sites = Site.objects.current().filter(project_id__in=projects.order_by().values("pk"))
    points, truncated = _site_points(projects, limit=MAX_MAP_SITES)
    return {
        "config": {
            **site_map_config(),
            "countries": {row["key"]: row["count"] for row in country_counts},
            "sites": points,
            "country_link": country_link,
        },
        "truncated": truncated,
        "coverage": coverage(sites),
    }


def project_map_config(project) -> dict:
    """The project page's map: its countries, and its sites read from the inline rows."""
    return {
        **site_map_config(),
        "countries": dict.fromkeys(
            project.project_countries.values_list("country_id", flat=True), 1
        ),
        "sites": [],
        "country_link": "",
        "editable": True,
    }
