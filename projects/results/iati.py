"""IATI 2.03 `<result>` elements for a published activity.

Mapping: Result.type → result/@type (1 output, 2 outcome, 3 impact); each indicator with
@measure 1 (unit) or 5 (qualitative), @ascending for quantitative ones, a `reference`
(vocabulary 99, the reporting organisation's own) for a standard indicator, a `baseline`
when its year is known, and its periods with target and the *approved* actual only (a
figure still under review is not published). The standard ruleset's result rules are
kept: a qualitative indicator carries no @value anywhere (its text goes in `comment`),
values are numbers, and a period never ends before it starts (the database refuses it).
A result without indicators is left out: the XSD requires at least one.
"""

from decimal import Decimal

from django.db.models import Prefetch
from lxml import etree

from projects.results.models import Indicator, Period, Result

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
INDICATOR_VOCABULARY_OWN = "99"


def results_prefetch() -> Prefetch:
    """What `append_results` reads, for `publishable_projects` (three queries a chunk)."""
    return Prefetch(
        "results",
        queryset=Result.objects.order_by("id").prefetch_related(
            Prefetch(
                "indicators",
                queryset=Indicator.objects.select_related("standard").order_by("id"),
            ),
            Prefetch("indicators__periods", queryset=Period.objects.order_by("period_start", "id")),
        ),
    )


def _narratives(parent, zh: str, en: str) -> None:
    for language, text in (("zh", zh), ("en", en)):
        if text:
            etree.SubElement(parent, "narrative", {XML_LANG: language}).text = text


def _value(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _comment(parent, text: str) -> None:
    if text:
        narrative = etree.SubElement(etree.SubElement(parent, "comment"), "narrative")
        narrative.text = text


def _indicator(result_element, indicator: Indicator) -> None:
    qualitative = indicator.measure == Indicator.Measure.QUALITATIVE
    attributes = {"measure": Indicator.IATI_MEASURE[indicator.measure]}
    if not qualitative:
        attributes["ascending"] = "1" if indicator.ascending else "0"
    element = etree.SubElement(result_element, "indicator", attributes)
    title_zh, title_en = indicator.title_zh, indicator.title_en
    if not (title_zh or title_en) and indicator.standard_id:
        title_zh, title_en = indicator.standard.name_zh, indicator.standard.name_en
    _narratives(etree.SubElement(element, "title"), title_zh, title_en)
    if indicator.standard_id:
        etree.SubElement(
            element,
            "reference",
            vocabulary=INDICATOR_VOCABULARY_OWN,
            code=indicator.standard.code,
        )
    if indicator.baseline_year:
        baseline = {"year": str(indicator.baseline_year)}
        if indicator.baseline_value is not None and not qualitative:
            baseline["value"] = _value(indicator.baseline_value)
        _comment(etree.SubElement(element, "baseline", baseline), indicator.baseline_comment)
    for period in indicator.periods.all():
        period_element = etree.SubElement(element, "period")
        etree.SubElement(period_element, "period-start", {"iso-date": str(period.period_start)})
        etree.SubElement(period_element, "period-end", {"iso-date": str(period.period_end)})
        if period.target_value is not None or period.target_comment:
            target = etree.SubElement(period_element, "target")
            if period.target_value is not None and not qualitative:
                target.set("value", _value(period.target_value))
            _comment(target, period.target_comment)
        if period.status == Period.State.APPROVED:
            actual = etree.SubElement(period_element, "actual")
            if period.actual_value is not None and not qualitative:
                actual.set("value", _value(period.actual_value))
            _comment(actual, period.actual_comment)


def append_results(activity, project) -> None:
    """Add the project's `<result>` elements at the end of its activity (where the XSD
    puts them, after budgets and before crs-add/fss, which are not written)."""
    for result in project.results.all():
        indicators = list(result.indicators.all())
        if not indicators:
            continue
        element = etree.SubElement(activity, "result", type=Result.IATI_TYPE[result.type])
        _narratives(etree.SubElement(element, "title"), result.title_zh, result.title_en)
        for indicator in indicators:
            _indicator(element, indicator)
