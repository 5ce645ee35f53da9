"""The managers' dashboard inside the admin, its server-side SVG charts, and the admin side
of the CSV/XLSX exports.

Charts are plain SVG drawn by templates from the geometry computed here: no JavaScript,
nothing from a CDN. Every bar links to the project changelist filtered on what the bar
counts. The page runs a fixed number of queries whatever the size of the pool.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from projects import access, dashboard_charts, exports, stats, workflow
from projects.dashboard_form import DashboardFilterForm
from projects.models import Status
from projects.sites import map as site_map

# Query parameters of the project changelist's filters (projects.admin.ProjectAdmin).
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


# --- SVG geometry -------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    value: float
    display: str
    href: str


def bar_chart(bars: list[Bar], *, width: int = 560, label_width: int = 190) -> dict:
    """Horizontal bars scaled to the largest value."""
    bar_height, gap, value_width = 20, 8, 70
    plot = width - label_width - value_width
    largest = max((bar.value for bar in bars), default=0) or 1
    rows = []
    for index, bar in enumerate(bars):
        y = index * (bar_height + gap)
        length = round(plot * bar.value / largest, 1)
        rows.append(
            {
                "label": bar.label,
                "display": bar.display,
                "href": bar.href,
                "y": y,
                "text_y": y + bar_height - 5,
                "x": label_width,
                "length": max(length, 1 if bar.value else 0),
                "value_x": label_width + length + 6,
            }
        )
    return {
        "width": width,
        "height": max(len(bars) * (bar_height + gap), bar_height),
        "bar_height": bar_height,
        "label_x": label_width - 8,
        "rows": rows,
    }


def line_chart(months: list[str], series: list[tuple[str, str, list[int]]]) -> dict:
    """Lines over months; `series` is [(label, colour, counts per month)]."""
    width, height, left, right, bottom, top = 560, 200, 40, 30, 30, 10
    plot_w, plot_h = width - left - right, height - bottom - top
    largest = max((max(counts, default=0) for _l, _c, counts in series), default=0) or 1
    step = plot_w / max(len(months) - 1, 1)

    def point(index: int, count: int) -> tuple[float, float]:
        return round(left + index * step, 1), round(top + plot_h - plot_h * count / largest, 1)

    lines = []
    for label, colour, counts in series:
        points = [point(index, count) for index, count in enumerate(counts)]
        lines.append(
            {
                "label": label,
                "colour": colour,
                "points": " ".join(f"{x},{y}" for x, y in points),
                "dots": [
                    {"x": x, "y": y, "count": count}
                    for (x, y), count in zip(points, counts, strict=True)
                ],
            }
        )
    every = max(1, len(months) // 8)
    return {
        "months": months,
        "width": width,
        "height": height,
        "axis_y": top + plot_h,
        "left": left,
        "right": width - right,
        "largest": largest,
        "top": top,
        "lines": lines,
        "ticks": [
            {"x": point(index, 0)[0], "label": month}
            for index, month in enumerate(months)
            if index % every == 0
        ],
    }


def gauge(label: str, share: float | None, *, target: float | None = None, note: str = "") -> dict:
    """A 0-100 % bar with an optional target marker."""
    width, plot = 560, 360
    share_value = share or 0.0
    return {
        "label": label,
        "width": width,
        "plot": plot,
        "length": round(plot * min(share_value, 1.0), 1),
        "display": "-" if share is None else f"{share_value:.1%}",
        "target_x": None if target is None else round(plot * target, 1),
        "target_display": None if target is None else f"{target:.0%}",
        "below_target": target is not None and share is not None and share < target,
        "note": note,
    }


# --- The page -----------------------------------------------------------------------------


def _count_bars(rows: list[dict], filters: stats.Filters, param: str) -> list[Bar]:
    return [
        Bar(
            label=row["label"] or str(row["key"]),
            value=row["count"],
            display=str(row["count"]),
            href=changelist_link(filters, **{param: row["key"]}),
        )
        for row in rows[:MAX_BARS]
    ]


def month_range(first: str, last: str) -> list[str]:
    """Every month from first to last ("YYYY-MM"), so quiet months show as zero."""
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _trend(flow: dict) -> dict | None:
    by_month = {entry["month"]: entry["entries"] for entry in flow["entries_by_month"]}
    if not by_month:
        return None
    months = month_range(min(by_month), max(by_month))[-MAX_MONTHS:]
    series = [
        (
            str(stage.label),
            colour,
            [by_month.get(month, {}).get(stage.value, 0) for month in months],
        )
        for stage, colour in zip(TREND_STAGES, TREND_COLOURS, strict=True)
    ]
    return line_chart(months, series)


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
        "funnel": bar_chart(_count_bars(pipeline, filters, "status")),
        "kinds": bar_chart(_count_bars(summary["by_kind"], filters, "kind")),
        "sectors": bar_chart(_count_bars(summary["by_sector"], filters, "sector")),
        "regions": bar_chart(_count_bars(summary["by_country_group"], filters, "country_group")),
        "countries": bar_chart(_count_bars(summary["by_country"], filters, "country")),
        "lead_units": bar_chart(_count_bars(summary["by_lead_unit"], filters, "lead_unit")),
        "trend": _trend(flow),
        "gauges": [
            gauge(
                _("People-to-people sectors"),
                balance["people_to_people"]["share"],
                target=balance["people_to_people"]["target"],
                note=_("projects with at least one people-to-people sector"),
            ),
            gauge(
                _("Substantive projects"),
                balance["kind"]["substantive_share"],
                note=_("the rest are events and activities"),
            ),
            gauge(
                _("Top three countries"),
                concentration["top_three_share"],
                note=", ".join(row["label"] for row in concentration["top_three"]),
            ),
            gauge(
                _("South Asia coverage"),
                coverage[stats.SOUTH_ASIA]["share"],
                note=_("%(count)s projects") % {"count": coverage[stats.SOUTH_ASIA]["count"]},
            ),
            gauge(
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
        **results_figures(projects, filters),
    }


def results_figures(projects, filters: stats.Filters) -> dict:
    """Targets against actuals of the standard indicators (projects.results.figures)."""
    from projects.results import figures
    from projects.risk.warnings import open_counts, open_trend

    selected = stats.filter_projects(projects, filters, period=False)
    return {
        "indicator_table": figures.indicator_table(selected),
        "achievement": figures.achievement_rate(selected),
        "warning_counts": open_counts(selected),
        "warning_trend": open_trend(selected),
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
    context["echarts"] = dashboard_charts.chart_data(context)
    return TemplateResponse(
        request, "projects/dashboard/index.html", context, status=400 if errors else 200
    )


admin_dashboard_view = admin.site.admin_view(dashboard_view)


# --- Exports from the admin ---------------------------------------------------------------


def export_response(queryset, file_format: str, request=None):
    language = get_language() or "zh-hans"
    if request is not None and file_format in {"csv", "xlsx"}:
        # A large export is built by a worker; its page shows the progress and the file.
        from projects.tasks import background_export

        job = background_export(
            user=request.user, queryset=queryset, file_format=file_format, language=language
        )
        if job is not None:
            return redirect(reverse("job-page", args=[job.pk]))
    if file_format == "csv":
        return exports.stream_projects_csv(queryset, language=language)
    if file_format == "xlsx":
        return exports.projects_xlsx_response(queryset, language=language)
    raise Http404


def _check_export(request) -> None:
    if not access.can_export_projects(request.user):
        raise PermissionDenied


@admin.action(description=gettext_lazy("Export selected projects as CSV"), permissions=["export"])
def export_selected_csv(modeladmin, request, queryset):
    _check_export(request)
    return export_response(access.visible_projects(request.user, queryset), "csv", request)


@admin.action(description=gettext_lazy("Export selected projects as XLSX"), permissions=["export"])
def export_selected_xlsx(modeladmin, request, queryset):
    _check_export(request)
    return export_response(access.visible_projects(request.user, queryset), "xlsx", request)


class ProjectExportAdminMixin:
    """For ProjectAdmin: `export/csv/` and `export/xlsx/` export the changelist as
    filtered (all pages). The two actions export the selected rows: add
    `*ProjectExportAdminMixin.export_actions` to the admin's `actions`. The buttons are in
    `projects/dashboard/export_buttons.html`, to include in the changelist's object
    tools."""

    export_actions = (export_selected_csv, export_selected_xlsx)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "export/<str:file_format>/",
                self.admin_site.admin_view(self.export_changelist_view),
                name="{}_{}_export".format(*info),
            ),
            *super().get_urls(),
        ]

    def has_export_permission(self, request) -> bool:
        """Asked by the admin for actions declared with permissions=["export"]."""
        return access.can_export_projects(request.user)

    def export_changelist_view(self, request, file_format: str):
        if file_format not in ("csv", "xlsx"):
            raise Http404
        if not self.has_view_permission(request):
            raise PermissionDenied
        _check_export(request)
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            info = self.opts.app_label, self.opts.model_name
            return redirect(reverse("admin:{}_{}_changelist".format(*info)) + "?e=1")
        queryset = access.visible_projects(request.user, changelist.queryset)
        return export_response(queryset, file_format, request)
