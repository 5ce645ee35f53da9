"""The managers' dashboard inside the admin: the view, its filters and what it shows.

The charts' data is built in `projects.reporting.charts` (drawn by Apache ECharts, with a
table under each for reading without it); the admin's CSV/XLSX exports are in
`projects.admin.exports`. Every bar links to the project changelist filtered on what the
bar counts. The page runs a fixed number of queries whatever the size of the pool.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from projects import access, workflow
from projects.models import Status
from projects.reporting import charts, stats
from projects.reporting.dashboard_form import DashboardFilterForm
from projects.sites import map as site_map

# Query parameters of the project changelist's filters (projects.admin.project.ProjectAdmin).
CHANGELIST_PARAMS = {
    "status": "status__exact",
    "kind": "kind__exact",
    "sector": "sector",
    "country": "country",
    "country_group": "country_group",
    "lead_unit": "lead_unit",
}
# Dashboard filters carried over into the changelist links.
CARRIED_FILTERS = {
    "country_group": "country_group",
    "sector": "sector",
    "lead_unit": "lead_unit",
}
TREND_STAGES = (Status.SUBMITTED, Status.SELECTED, Status.COMPLETED)
TREND_COLOURS = ("#417690", "#2e7d32", "#b26a00")
MAX_BARS = 12
MAX_MONTHS = 24


def changelist_url() -> str:
    try:
        return reverse("admin:projects_project_changelist")
    except NoReverseMatch:
        return "/admin/projects/project/"


def changelist_link(filters: stats.Filters, **bar) -> str:
    """The changelist filtered on what a bar counts, within the dashboard's filters."""
    params = {
        CARRIED_FILTERS[name]: value
        for name, value in filters.as_params().items()
        if name in CARRIED_FILTERS
    }
    params.update({CHANGELIST_PARAMS[name]: str(value) for name, value in bar.items()})
    return f"{changelist_url()}?{urlencode(params)}"


# --- The page -----------------------------------------------------------------------------


def _count_bars(rows: list[dict], filters: stats.Filters, param: str) -> list[charts.Bar]:
    return [
        charts.Bar(
            label=row["label"] or str(row["key"]),
            value=row["count"],
            display=str(row["count"]),
            href=changelist_link(filters, **{param: row["key"]}),
        )
        for row in rows[:MAX_BARS]
    ]


def _trend(flow: dict) -> dict | None:
    by_month = {entry["month"]: entry["entries"] for entry in flow["entries_by_month"]}
    if not by_month:
        return None
    months = charts.month_range(min(by_month), max(by_month))[-MAX_MONTHS:]
    series = [
        (
            str(stage.label),
            colour,
            [by_month.get(month, {}).get(stage.value, 0) for month in months],
        )
        for stage, colour in zip(TREND_STAGES, TREND_COLOURS, strict=True)
    ]
    return charts.line_chart(months, series)


def dashboard_context(user, filters: stats.Filters) -> dict:
    projects = access.visible_projects(user)
    summary = stats.summary(projects, filters)
    balance = stats.balance(projects, filters)
    flow = stats.flow(projects, filters)
    concentration = balance["concentration"]
    coverage = balance["coverage"]
    # The path through the pool always shows; the ways out only when used.
    pipeline = [
        row for row in summary["by_status"] if row["count"] or row["key"] in workflow.PIPELINE_PATH
    ]
    return {
        "summary": summary,
        "balance": balance,
        "flow": flow,
        "funnel": charts.bar_chart(_count_bars(pipeline, filters, "status")),
        "kinds": charts.bar_chart(_count_bars(summary["by_kind"], filters, "kind")),
        "sectors": charts.bar_chart(_count_bars(summary["by_sector"], filters, "sector")),
        "regions": charts.bar_chart(
            _count_bars(summary["by_country_group"], filters, "country_group")
        ),
        "countries": charts.bar_chart(_count_bars(summary["by_country"], filters, "country")),
        "lead_units": charts.bar_chart(_count_bars(summary["by_lead_unit"], filters, "lead_unit")),
        "trend": _trend(flow),
        "gauges": [
            charts.gauge(
                _("People-to-people sectors"),
                balance["people_to_people"]["share"],
                target=balance["people_to_people"]["target"],
                note=_("projects with at least one people-to-people sector"),
            ),
            charts.gauge(
                _("Substantive projects"),
                balance["kind"]["substantive_share"],
                note=_("the rest are events and activities"),
            ),
            charts.gauge(
                _("Top three countries"),
                concentration["top_three_share"],
                note=", ".join(row["label"] for row in concentration["top_three"]),
            ),
            charts.gauge(
                _("South Asia coverage"),
                coverage[stats.SOUTH_ASIA]["share"],
                note=_("%(count)s projects") % {"count": coverage[stats.SOUTH_ASIA]["count"]},
            ),
            charts.gauge(
                _("Central Asia coverage"),
                coverage[stats.CENTRAL_ASIA]["share"],
                note=_("%(count)s projects") % {"count": coverage[stats.CENTRAL_ASIA]["count"]},
            ),
        ],
        "hhi": concentration["hhi"],
        "site_map": site_map.dashboard_map(
            projects=stats.filter_projects(projects, filters),
            country_counts=summary["by_country"],
            country_link=changelist_link(filters, country="__ISO__"),
        ),
        **results_figures(user, filters),
    }


def results_figures(user, filters: stats.Filters) -> dict:
    """Targets against actuals of the standard indicators (projects.results.figures) and
    the open warnings, each aggregated over its own rows (periods, warnings) and reaching
    the selection through `stats.Selection`: for the whole pool no project row is read.
    The period filters do not apply (they are about when projects were entered)."""
    from projects.results import figures
    from projects.risk.warnings import open_counts, open_trend

    projects = stats.Selection(
        filters, None if access.sees_whole_pool(user) else access.visible_projects(user)
    )
    return {
        "indicator_table": figures.indicator_table(projects),
        "achievement": figures.achievement_rate(projects),
        "warning_counts": open_counts(projects),
        "warning_trend": open_trend(projects),
    }


def dashboard_view(request):
    if not access.can_view_stats(request.user):
        raise PermissionDenied
    errors = {}
    try:
        filters = stats.parse_filters(request.GET)
    except ValidationError as error:
        errors = error.message_dict
        filters = stats.Filters()
    form = DashboardFilterForm(request.GET or None, user=request.user)
    if request.GET:
        form.is_valid()
    context = {
        **admin.site.each_context(request),
        "title": _("Pipeline dashboard"),
        "form": form,
        "filter_errors": errors,
        "filters": filters,
        "changelist_url": changelist_url(),
        **dashboard_context(request.user, filters),
    }
    context["echarts"] = charts.chart_data(context)
    return TemplateResponse(
        request, "projects/dashboard/index.html", context, status=400 if errors else 200
    )


admin_dashboard_view = admin.site.admin_view(dashboard_view)
