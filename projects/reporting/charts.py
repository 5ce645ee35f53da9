"""The dashboard's charts as data for Apache ECharts (projects/dashboard/charts.js draws
them from one json_script element): each bar carries its label, count and the link to the
changelist filtered on what it counts; the trend carries its months and one series per
stage. The same rows feed the table under each chart, for reading without the chart."""

from dataclasses import dataclass

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


# --- Geometry of the tables and the gauge (drawn without script) ---------------------------


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


def month_range(first: str, last: str) -> list[str]:
    """Every month from first to last ("YYYY-MM"), so quiet months show as zero."""
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
