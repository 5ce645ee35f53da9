"""The dashboard's charts as data for Apache ECharts (projects/dashboard/charts.js draws
them from one json_script element): each bar carries its label, count and the link to the
changelist filtered on what it counts; the trend carries its months and one series per
stage. The same rows feed the table under each chart, for reading without the chart."""

from django.utils.translation import gettext as _

BAR_CHARTS = ("funnel", "sectors", "regions", "countries", "kinds", "lead_units")


def _bars(chart: dict, name: str) -> dict:
    return {
        "kind": "bar",
        "name": name,
        "labels": [row["label"] for row in chart["rows"]],
        "values": [int(row["display"]) for row in chart["rows"]],
        "links": [row["href"] for row in chart["rows"]],
    }


def chart_data(context: dict) -> dict:
    names = {
        "funnel": _("Projects by status"),
        "sectors": _("Projects by top-level sector"),
        "regions": _("Projects by country group"),
        "countries": _("Projects by country"),
        "kinds": _("Projects by kind"),
        "lead_units": _("Projects by lead unit"),
    }
    charts = {key: _bars(context[key], names[key]) for key in BAR_CHARTS}
    trend = context.get("trend")
    if trend:
        charts["trend"] = {
            "kind": "line",
            "name": _("Transitions per month"),
            "months": trend["months"],
            "series": [
                {
                    "name": line["label"],
                    "colour": line["colour"],
                    "values": [dot["count"] for dot in line["dots"]],
                }
                for line in trend["lines"]
            ],
        }
    return {
        "charts": charts,
        "text": {
            "save": _("Save as PNG"),
            "projects": _("projects"),
            "open": _("Click a bar for these projects."),
        },
    }
