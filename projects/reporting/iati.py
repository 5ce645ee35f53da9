"""IATI 2.03 activity XML for the projects the office publishes.

Published: projects that are selected, in progress or completed. Each activity is
checked against the rules the XSD cannot express (percentages per vocabulary add up to
100, starts before ends, no actual date in the future, a start date and a description
exist) and then against the official XSD itself; a project that fails is left out and
reported with its reasons, never exported silently. The file is written incrementally
(lxml `xmlfile`), so its size does not bound memory.

Mapping: identifier = REGISTRY_IATI_REPORTING_ORG_REF + "-" + code; titles and summaries
as zh/en narratives; the lead unit as accountable organisation (role 2) and every
participation with `Participation.IATI_ROLE`, `ref` = Partner.org_id when known;
activity status from `IATI_ACTIVITY_STATUS`; dates of types 1-4; recipient countries
and DAC 5-digit sectors (vocabulary 1; registry sectors sharing a DAC code are merged)
with percentages, a single one without a share counting as 100; one budget over the
project's period when value, currency, start and end are known; one location per
site (`projects.sites.iati`).
"""

import functools
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from lxml import etree

from partners.models import Partner
from projects.models import (
    IATI_ACTIVITY_STATUS,
    Participation,
    Project,
    Site,
    Status,
)
from projects.results import iati as results_iati
from projects.sites.iati import location_element

IATI_VERSION = "2.03"
SCHEMA_PATH = Path(settings.BASE_DIR) / "fixtures/reference/iati/schemas/iati-activities-schema.xsd"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PUBLISHED_STATUSES = (Status.SELECTED, Status.IN_PROGRESS, Status.COMPLETED)
HUNDRED = Decimal("100")
CHUNK_SIZE = 500

# IATI OrganisationType for our partner kinds.
ORGANISATION_TYPE = {
    Partner.Kind.GOVERNMENT: "10",
    Partner.Kind.CHAMBER: "90",
    Partner.Kind.ENTERPRISE: "70",
    Partner.Kind.ACADEMIC: "80",
    Partner.Kind.INTERNATIONAL: "40",
    Partner.Kind.FINANCIAL: "70",
    Partner.Kind.NGO: "22",
}
ACCOUNTABLE = 2
# ActivityDateType: 1 planned start, 2 actual start, 3 planned end, 4 actual end.
DATE_TYPES = (
    ("planned_start", "1"),
    ("actual_start", "2"),
    ("planned_end", "3"),
    ("actual_end", "4"),
)


def reporting_org() -> dict:
    """The reporting organisation; the names and type can be set in settings."""
    return {
        "ref": settings.REGISTRY_IATI_REPORTING_ORG_REF,
        # 11: local (sub-national) government, which a provincial office is.
        "type": getattr(settings, "REGISTRY_IATI_REPORTING_ORG_TYPE", "11"),
        "name_zh": getattr(
            settings, "REGISTRY_IATI_REPORTING_ORG_NAME_ZH", "广西壮族自治区人民政府外事办公室"
        ),
        "name_en": getattr(
            settings,
            "REGISTRY_IATI_REPORTING_ORG_NAME_EN",
            "Foreign Affairs Office of Guangxi Zhuang Autonomous Region",
        ),
    }


@dataclass
class Problem:
    code: str
    reasons: list[str]

    def __str__(self) -> str:
        return f"{self.code}: {'; '.join(self.reasons)}"


@dataclass
class ExportResult:
    published: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@functools.cache
def schema() -> etree.XMLSchema:
    # The XSD includes iati-common.xsd and xml.xsd from the same folder: no network.
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), parser))


def schema_errors(document: etree._Element | etree._ElementTree) -> list[str]:
    xsd = schema()
    if xsd.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in xsd.error_log]


def publishable_projects(queryset: QuerySet | None = None) -> QuerySet:
    queryset = Project.objects.all() if queryset is None else queryset
    return (
        queryset.filter(status__in=PUBLISHED_STATUSES)
        .select_related("lead_unit")
        .with_links()
        .prefetch_related(
            Prefetch(
                "sites", queryset=Site.objects.current().order_by("id"), to_attr="current_sites"
            ),
            results_iati.results_prefetch(),
        )
        .order_by("code")
    )


def _percentages(rows: list[tuple[str, Decimal | None]], label: str, problems: list[str]):
    """[(code, percentage or None)] merged by code, checked to add up to 100."""
    if not rows:
        return []
    shares = [share for _code, share in rows]
    if all(share is None for share in shares):
        if len({code for code, _share in rows}) == 1:
            return [(rows[0][0], HUNDRED)]
        problems.append(
            _("%(label)s: several without percentages; give each a share.") % {"label": label}
        )
        return []
    if any(share is None for share in shares):
        problems.append(_("%(label)s: some have no percentage.") % {"label": label})
        return []
    merged: OrderedDict[str, Decimal] = OrderedDict()
    for code, share in rows:
        merged[code] = merged.get(code, Decimal(0)) + share
    total = sum(merged.values(), Decimal(0))
    if total != HUNDRED:
        problems.append(
            _("%(label)s: percentages add up to %(total)s, not 100.")
            % {"label": label, "total": f"{total.normalize():f}"}
        )
        return []
    return list(merged.items())


def check_project(project: Project, *, today: date) -> tuple[list[str], dict]:
    """The rules the XSD cannot check. Returns (problems, prepared values)."""
    problems: list[str] = []
    if not (project.summary_zh or project.summary_en):
        problems.append(_("no summary in either language (IATI needs a description)"))
    if not (project.planned_start or project.actual_start):
        problems.append(_("no planned or actual start date"))
    for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
        start_value, end_value = getattr(project, start), getattr(project, end)
        if start_value and end_value and end_value < start_value:
            problems.append(
                _("%(end)s %(end_value)s is before %(start)s %(start_value)s")
                % {
                    "end": end,
                    "end_value": end_value,
                    "start": start,
                    "start_value": start_value,
                }
            )
    for name in ("actual_start", "actual_end"):
        value = getattr(project, name)
        if value and value > today:
            problems.append(
                _("%(name)s %(value)s is in the future") % {"name": name, "value": value}
            )
    countries = _percentages(
        [(link.country_id, link.share) for link in project.project_countries.all()],
        _("recipient countries"),
        problems,
    )
    sector_links = list(project.project_sectors.all())
    unmapped = [link.sector.code for link in sector_links if not link.sector.dac_code]
    if unmapped:
        problems.append(_("sectors without a DAC code: %(codes)s") % {"codes": ", ".join(unmapped)})
        sectors = []
    else:
        sectors = _percentages(
            [(link.sector.dac_code, link.share) for link in sector_links],
            _("sectors (DAC vocabulary)"),
            problems,
        )
    return problems, {"countries": countries, "sectors": sectors}


def _narratives(parent: etree._Element, zh: str, en: str) -> None:
    for language, text in (("zh", zh), ("en", en)):
        if text:
            etree.SubElement(parent, "narrative", {XML_LANG: language}).text = text


def _decimal(value: Decimal) -> str:
    return f"{value.normalize():f}"


def activity_element(project: Project, prepared: dict) -> etree._Element:
    org = reporting_org()
    attributes = {XML_LANG: "zh"}
    if project.updated_at:
        attributes["last-updated-datetime"] = project.updated_at.isoformat(timespec="seconds")
    activity = etree.Element("iati-activity", attributes)
    etree.SubElement(activity, "iati-identifier").text = f"{org['ref']}-{project.code}"
    reporting = etree.SubElement(activity, "reporting-org", ref=org["ref"], type=org["type"])
    _narratives(reporting, org["name_zh"], org["name_en"])
    _narratives(etree.SubElement(activity, "title"), project.title_zh, project.title_en)
    _narratives(
        etree.SubElement(activity, "description", type="1"),
        project.summary_zh,
        project.summary_en,
    )

    organisations = [(project.lead_unit, ACCOUNTABLE)]
    organisations += [
        (link.partner, Participation.IATI_ROLE[link.role]) for link in project.participations.all()
    ]
    seen = set()
    for partner, role in organisations:
        if (partner.pk, role) in seen:
            continue
        seen.add((partner.pk, role))
        attributes = {"role": str(role)}
        if partner.org_id:
            attributes["ref"] = partner.org_id
        if partner.kind in ORGANISATION_TYPE:
            attributes["type"] = ORGANISATION_TYPE[partner.kind]
        _narratives(
            etree.SubElement(activity, "participating-org", attributes),
            partner.name_zh,
            partner.name_en,
        )

    etree.SubElement(activity, "activity-status", code=str(IATI_ACTIVITY_STATUS[project.status]))
    for name, date_type in DATE_TYPES:
        value = getattr(project, name)
        if value:
            etree.SubElement(activity, "activity-date", type=date_type, **{"iso-date": str(value)})
    for code, percentage in prepared["countries"]:
        etree.SubElement(activity, "recipient-country", code=code, percentage=_decimal(percentage))
    # After the countries and before the sectors, as the schema's sequence has it.
    sites = getattr(project, "current_sites", None)
    if sites is None:
        sites = project.sites.current().order_by("id")
    for site in sites:
        activity.append(location_element(site, ref_prefix=f"{org['ref']}-{project.code}"))
    for code, percentage in prepared["sectors"]:
        etree.SubElement(
            activity, "sector", vocabulary="1", code=code, percentage=_decimal(percentage)
        )

    start = project.planned_start or project.actual_start
    end = project.planned_end or project.actual_end
    if project.estimated_value is not None and project.currency and start and end:
        # type 1 original, status 1 indicative: an estimate, not a committed budget.
        budget = etree.SubElement(activity, "budget", type="1", status="1")
        etree.SubElement(budget, "period-start", **{"iso-date": str(start)})
        etree.SubElement(budget, "period-end", **{"iso-date": str(end)})
        etree.SubElement(
            budget, "value", currency=project.currency, **{"value-date": str(start)}
        ).text = f"{project.estimated_value:f}"
    results_iati.append_results(activity, project)
    return activity


def _wrapped(activity: etree._Element) -> etree._Element:
    root = etree.Element("iati-activities", version=IATI_VERSION)
    root.append(activity)
    return root


def write_activities(
    output, queryset: QuerySet | None = None, *, today: date | None = None
) -> ExportResult:
    """Write the IATI file to a binary file object; return what was published and what
    was left out with the reasons. Each activity is validated against the XSD alone, so
    the file as a whole is valid whenever it holds at least one activity."""
    today = today or timezone.localdate()
    result = ExportResult()
    generated = timezone.now().isoformat(timespec="seconds")
    # Messages in the reports are in English whatever the request's language: the file
    # and its log go to publishers and validators.
    with translation.override("en"), etree.xmlfile(output, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(
            "iati-activities", {"version": IATI_VERSION, "generated-datetime": generated}
        ):
            for project in publishable_projects(queryset).iterator(chunk_size=CHUNK_SIZE):
                problems, prepared = check_project(project, today=today)
                if not problems:
                    try:
                        activity = activity_element(project, prepared)
                    except ValueError as error:
                        # lxml refuses text XML cannot hold (control characters, e.g. in
                        # rows older than the model's validator): this project is left
                        # out and reported; the file goes on with the others.
                        result.problems.append(
                            Problem(project.code, [f"Text that XML cannot hold: {error}"])
                        )
                        continue
                    problems = schema_errors(_wrapped(activity))
                    if not problems:
                        # _wrapped moved the element; detach it again before writing.
                        activity.getparent().remove(activity)
                        xf.write(activity, pretty_print=True)
                        result.published.append(project.code)
                        continue
                result.problems.append(Problem(project.code, problems))
    return result
