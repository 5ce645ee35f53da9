"""The `sites` and `targets` columns of the project import: reading them, and writing
them through the sites and results services once the row's project is created or updated.

Sites, several per cell, separated by `;` (or the full-width semicolon, or a line break),
each six fields separated by `|` (or the full-width bar), the seventh optional:

    name_zh|name_en|facility type|latitude|longitude|country[|administrative area]
    钦州港|Qinzhou Port|port|21.68|108.61|CN; 万象物流中心||物流中心|17.97|102.63|老挝

One name is enough; the facility type is a code, its English label or a Chinese word
(empty: other); latitude and longitude are decimal degrees (WGS 84); the country is an
ISO code or name and must be one of the project's countries. A listed site whose name
matches a current site of the project changes that site; any other is added. Sites not
listed are kept (taking a site off is done in the admin, never by a file).

Targets, several per cell, separated by `;`: a standard indicator (code or name), a year
and the target for that year, separated by spaces:

    containers-moved 2026 5000; jobs-created 2027 120; 培训人数 2026 300

The target goes to the project's indicator following that standard indicator (added,
with its reporting period for the year, 1 January to 31 December, when missing). A new
indicator goes into the project's result "标准指标目标 / Standard indicator targets"
(an outcome), created the first time. Targets not listed are kept.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from projects.errors import DomainError, InvalidData
from projects.results import services as results_services
from projects.results.models import Indicator, Period, Result, StandardIndicator
from projects.sites import services as site_services
from projects.sites.models import FacilityType
from registry.importing.matching import ITEM_SEPARATORS, MatchError, Vocabulary, normalize

# Chinese words people write for the facility types; input vocabulary, not UI text.
FACILITY_WORDS = {
    FacilityType.PORT: ("港口", "港", "码头"),
    FacilityType.INDUSTRIAL_PARK: ("工业园区", "产业园", "园区", "工业园"),
    FacilityType.DRY_PORT: ("陆港", "无水港", "内陆港"),
    FacilityType.RAIL_TERMINAL: ("铁路场站", "铁路货场", "火车站"),
    FacilityType.BORDER_CROSSING: ("口岸", "边境口岸"),
    FacilityType.DISTRIBUTION_CENTRE: ("物流中心", "配送中心", "分拨中心", "物流园"),
    FacilityType.OVERSEAS_WAREHOUSE: ("海外仓",),
    FacilityType.SCHOOL: ("学校", "学院", "大学"),
    FacilityType.HOSPITAL: ("医院",),
    FacilityType.OFFICE: ("办公室", "办事处", "代表处"),
    FacilityType.OTHER: ("其他",),
}
FACILITY_TYPES = Vocabulary(FacilityType, FACILITY_WORDS)
# \uff5c full-width vertical bar.
FIELD_SEPARATOR = re.compile("[|\uff5c]")

# The result that holds the indicators a file adds; stored data in both languages.
TARGETS_RESULT = {"title_zh": "标准指标目标", "title_en": "Standard indicator targets"}
TARGETS_RESULT_TYPE = Result.Type.OUTCOME


@dataclass(frozen=True)
class SiteItem:
    data: dict  # the fields site_add takes

    @property
    def name(self) -> str:
        return self.data["name_zh"] or self.data["name_en"]


@dataclass(frozen=True)
class TargetItem:
    standard: StandardIndicator
    year: int
    value: Decimal


def _number(text: str) -> Decimal | None:
    text = unicodedata.normalize("NFKC", text).replace(",", "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _degrees(text: str, *, what: str, limit: int, site: str) -> Decimal:
    value = _number(text)
    if value is None:
        raise MatchError(
            _("Site %(site)s: the %(what)s %(value)s is not a number.")
            % {"site": site, "what": what, "value": text}
        )
    if not -limit <= value <= limit:
        raise MatchError(
            _(
                "Site %(site)s: the %(what)s %(value)s is out of range "
                "(from -%(limit)s to %(limit)s)."
            )
            % {"site": site, "what": what, "value": text, "limit": limit}
        )
    return value


def parse_sites(text: str, country) -> list[SiteItem]:
    """The cell's sites; `country` turns a country's code or name into its ISO code."""
    sites = []
    names = set()
    for part in ITEM_SEPARATORS.split(text or ""):
        if not part.strip():
            continue
        fields = [f.strip() for f in FIELD_SEPARATOR.split(part)]
        if len(fields) not in (6, 7):
            raise MatchError(
                _(
                    "%(value)s: write a site as name_zh|name_en|facility type|latitude|"
                    "longitude|country, optionally |administrative area."
                )
                % {"value": part.strip()}
            )
        name_zh, name_en, kind, latitude, longitude, country_text = fields[:6]
        name = name_zh or name_en
        if not name:
            raise MatchError(
                _("%(value)s: give the site a name in Chinese or English.")
                % {"value": part.strip()}
            )
        if normalize(name) in names:
            raise MatchError(_("The site %(site)s is listed twice.") % {"site": name})
        names.add(normalize(name))
        facility_type = FacilityType.OTHER
        if kind:
            facility_type = FACILITY_TYPES.match(kind)
            if facility_type is None:
                raise MatchError(
                    _("Site %(site)s: %(value)s is not a facility type; use one of: %(allowed)s.")
                    % {"site": name, "value": kind, "allowed": FACILITY_TYPES.allowed()}
                )
        try:
            country_id = country(country_text)
        except MatchError as error:
            raise MatchError(
                _("Site %(site)s: %(error)s") % {"site": name, "error": error}
            ) from None
        sites.append(
            SiteItem(
                {
                    "name_zh": name_zh,
                    "name_en": name_en,
                    "facility_type": facility_type,
                    "latitude": _degrees(latitude, what=_("latitude"), limit=90, site=name),
                    "longitude": _degrees(longitude, what=_("longitude"), limit=180, site=name),
                    "country": country_id,
                    "admin_area": fields[6] if len(fields) == 7 else "",
                }
            )
        )
    return sites


class StandardIndicators:
    """The standard indicators by code and Chinese or English name, loaded once."""

    def __init__(self):
        self.by_form: dict[str, StandardIndicator] = {}
        for indicator in StandardIndicator.objects.all():
            for form in (indicator.code, indicator.name_zh, indicator.name_en):
                if form:
                    self.by_form.setdefault(normalize(form), indicator)

    def parse_targets(self, text: str) -> list[TargetItem]:
        targets = []
        seen = set()
        for part in ITEM_SEPARATORS.split(text or ""):
            words = unicodedata.normalize("NFKC", part).split()
            if not words:
                continue
            if len(words) < 3:
                raise MatchError(
                    _(
                        "%(value)s: write a target as indicator code, year and target, "
                        "e.g. containers-moved 2026 5000."
                    )
                    % {"value": part.strip()}
                )
            name, year_text, value_text = " ".join(words[:-2]), words[-2], words[-1]
            standard = self.by_form.get(normalize(name))
            if standard is None:
                raise MatchError(
                    _(
                        "Unknown indicator %(value)s: give the code of a standard indicator "
                        "(see the template's code list)."
                    )
                    % {"value": name}
                )
            if not standard.active:
                raise MatchError(
                    _("The indicator %(value)s is no longer in use.") % {"value": standard.code}
                )
            year = int(year_text) if year_text.isdigit() else 0
            if not 1900 <= year <= 2100:
                raise MatchError(
                    _("%(value)s: %(year)s is not a year between 1900 and 2100.")
                    % {"value": part.strip(), "year": year_text}
                )
            value = _number(value_text)
            if value is None or abs(value) >= results_services.MAX_VALUE:
                raise MatchError(
                    _("%(value)s: the target %(target)s is not a number.")
                    % {"value": part.strip(), "target": value_text}
                )
            if (standard.pk, year) in seen:
                raise MatchError(
                    _("The target of %(value)s for %(year)s is listed twice.")
                    % {"value": standard.code, "year": year}
                )
            seen.add((standard.pk, year))
            targets.append(TargetItem(standard, year, value))
        return targets


def _messages(error: DomainError) -> str:
    if isinstance(error, InvalidData):
        return " ".join(str(m) for messages in error.errors.values() for m in messages)
    return str(error)


def write_sites(*, actor, project, sites: list[SiteItem]) -> tuple[bool, list[str]]:
    """Add or change the listed sites. Returns (anything changed, error messages)."""
    current = {}
    for site in project.sites.current():
        for name in (site.name_zh, site.name_en):
            if name:
                current.setdefault(normalize(name), site)
    changed, errors = False, []
    for item in sites:
        site = current.get(normalize(item.data["name_zh"])) or current.get(
            normalize(item.data["name_en"])
        )
        try:
            if site is None:
                site_services.site_add(actor=actor, project=project, data=item.data)
                changed = True
            else:
                _site, site_changed = site_services.site_change(
                    actor=actor, site=site, data=item.data
                )
                changed = changed or site_changed
        except DomainError as error:
            errors.append(
                _("Site %(site)s: %(error)s") % {"site": item.name, "error": _messages(error)}
            )
    return changed, errors


def write_targets(*, actor, project, targets: list[TargetItem]) -> tuple[bool, list[str]]:
    """Set the listed targets. Returns (anything changed, error messages). The indicators
    a project lacks are added in one service call (one lock and version bump, not one
    per target)."""
    indicators = {}
    for indicator in Indicator.objects.filter(
        result__project=project, standard__isnull=False
    ).order_by("id"):
        indicators.setdefault(indicator.standard_id, indicator)
    changed, errors = False, []
    missing: dict[int, results_services.IndicatorData] = {}
    for item in targets:
        start, end = date(item.year, 1, 1), date(item.year, 12, 31)
        period_data = results_services.PeriodData(
            period_start=start, period_end=end, target_value=item.value
        )
        indicator = indicators.get(item.standard.pk)
        if indicator is None:
            missing.setdefault(
                item.standard.pk, results_services.IndicatorData(standard=item.standard)
            ).periods.append(period_data)
            continue
        try:
            period = Period.objects.filter(
                indicator=indicator, period_start=start, period_end=end
            ).first()
            if period is None:
                results_services.period_add(indicator=indicator, actor=actor, data=period_data)
                changed = True
            elif period.target_value != item.value:
                results_services.period_set_target(
                    period=period,
                    actor=actor,
                    target_value=item.value,
                    target_comment=period.target_comment,
                )
                changed = True
        except DomainError as error:
            errors.append(
                _("Target %(value)s %(year)s: %(error)s")
                % {"value": item.standard.code, "year": item.year, "error": _messages(error)}
            )
    if missing:
        try:
            _add_indicators(actor, project, list(missing.values()))
            changed = True
        except DomainError as error:
            errors.append(
                _("Target %(value)s %(year)s: %(error)s")
                % {
                    "value": ", ".join(data.standard.code for data in missing.values()),
                    "year": ", ".join(
                        sorted(
                            {str(p.period_start.year) for d in missing.values() for p in d.periods}
                        )
                    ),
                    "error": _messages(error),
                }
            )
    return changed, errors


def _add_indicators(actor, project, indicators: list) -> None:
    result = Result.objects.filter(project=project, **TARGETS_RESULT).order_by("id").first()
    if result is None:
        results_services.result_create(
            project=project,
            actor=actor,
            type=TARGETS_RESULT_TYPE,
            indicators=indicators,
            **TARGETS_RESULT,
        )
        return
    for data in indicators:
        results_services.indicator_add(result=result, actor=actor, data=data)
