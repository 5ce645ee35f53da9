"""Importing projects: each row becomes a `project_create` or `project_update` call.

A row without a code creates a draft; a row with a code updates that project, and an
update that changes nothing writes nothing (no history row, same version). Access,
validation and history are the services' own: an officer imports only for their units.
"""

import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from partners.models import Partner
from projects import access, services
from projects.errors import DomainError, InvalidData, NotAllowed
from projects.importing import bulk, places
from projects.importing.matching import (
    KINDS,
    RISK_LEVELS,
    ROLES,
    Lookups,
    split_partner_name,
    split_tags,
)
from projects.importing.template import PROJECT_COLUMNS
from projects.models import CodeSequence, Participation, Project
from registry.importing.columns import match_headers
from registry.importing.formats import Table
from registry.importing.matching import MatchError, split_items
from registry.importing.report import (
    CREATE,
    ERROR,
    UNCHANGED,
    UPDATE,
    ImportReport,
    RowResult,
    column_label,
)
from registry.importing.runner import Progress, run_all_or_nothing

TEXT_FIELDS = (
    "title_zh",
    "title_en",
    "summary_zh",
    "summary_en",
    "support_requested",
    "risk_notes",
    "internal_notes",
)
DATE_FIELDS = ("planned_start", "planned_end", "actual_start", "actual_end", "next_review_due")
_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00)?)?$"
)


def parse_date(text: str) -> date | None:
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    match = _DATE.match(text)
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise MatchError(_("%(value)s is not a date; write YYYY-MM-DD.") % {"value": text})


def parse_decimal(text: str) -> Decimal | None:
    text = unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise MatchError(_("%(value)s is not a number.") % {"value": text})
    return value


@dataclass
class ParsedRow:
    row: int
    code: str
    data: dict = field(default_factory=dict)
    countries: list | None = None
    sectors: list | None = None
    participations: list | None = None
    tags: list | None = None
    sites: list | None = None
    targets: list | None = None


class ProjectImport:
    """One import run: the file's columns, the pre-loaded lookups and the report."""

    def __init__(
        self, table: Table, *, actor, commit: bool, create_partners: bool, report: ImportReport
    ):
        self.table = table
        self.commit = commit
        self.actor = actor
        self.create_partners = create_partners
        self.report = report
        # Code numbers for new projects (code_numbers); None: taken per batch.
        self.numbers: Iterator[int] | None = None
        self.columns, header_errors = match_headers(table.headers, PROJECT_COLUMNS)
        self.index_of = {column.key: index for index, column in self.columns.items()}
        for index, header, message in header_errors:
            report.add_error(1, column_label(index, header), message)
        self.lookups: Lookups | None = None
        self.standard_indicators: places.StandardIndicators | None = None
        self.codes_seen: dict[str, int] = {}
        self.titles_created: dict[tuple, int] = {}
        self.partners_created: dict[tuple, int] = {}

    # -- where things are in the file --

    def label(self, key: str) -> str:
        index = self.index_of.get(key)
        if index is None:
            return key
        return column_label(index, self.table.headers[index])

    def cell(self, row, key: str) -> str:
        index = self.index_of[key]
        return row.values[index].strip() if index < len(row.values) else ""

    def has(self, key: str) -> bool:
        return key in self.index_of

    # -- reading one row --

    def parse(self, row) -> ParsedRow | None:
        errors_before = len(self.report.errors)
        for index, message in row.cell_errors.items():
            header = self.table.headers[index] if index < len(self.table.headers) else ""
            self.report.add_error(row.number, column_label(index, header), message)
        parsed = ParsedRow(row.number, self.cell(row, "code").upper() if self.has("code") else "")

        def attempt(key, convert):
            if not self.has(key):
                return None
            try:
                return convert(self.cell(row, key))
            except MatchError as error:
                self.report.add_error(row.number, self.label(key), str(error))
                return None

        for key in TEXT_FIELDS:
            if self.has(key):
                parsed.data[key] = self.cell(row, key)
        for key in DATE_FIELDS:
            if self.has(key):
                parsed.data[key] = attempt(key, parse_date)
        if self.has("estimated_value"):
            parsed.data["estimated_value"] = attempt("estimated_value", parse_decimal)
        if self.has("currency"):
            parsed.data["currency"] = unicodedata.normalize(
                "NFKC", self.cell(row, "currency")
            ).upper()
        for key, vocabulary in (("kind", KINDS), ("risk_level", RISK_LEVELS)):
            # Empty: the default on create, unchanged on update (these are never blank).
            if self.has(key) and self.cell(row, key):
                value = vocabulary.match(self.cell(row, key))
                if value is None:
                    self.report.add_error(
                        row.number,
                        self.label(key),
                        _("%(value)s is not allowed here; use one of: %(allowed)s.")
                        % {"value": self.cell(row, key), "allowed": vocabulary.allowed()},
                    )
                else:
                    parsed.data[key] = value
        if self.has("lead_unit") and self.cell(row, "lead_unit"):
            parsed.data["lead_unit"] = attempt("lead_unit", self.lead_unit)
        elif not parsed.code:
            self.report.add_error(row.number, self.label("lead_unit"), _("Give the lead unit."))
        if self.has("countries"):
            countries = attempt("countries", self.lookups.country_shares)
            if countries is not None:
                parsed.countries = [services.CountryShare(c, s) for c, s in countries]
        if self.has("sectors"):
            sectors = attempt("sectors", self.lookups.sector_shares)
            if sectors is not None:
                parsed.sectors = [services.SectorShare(c, s) for c, s in sectors]
        if self.has("partners"):
            parsed.participations = attempt(
                "partners", lambda text: self.participations(text, parsed.countries)
            )
        if self.has("tags"):
            parsed.tags = split_tags(self.cell(row, "tags"))
        if self.has("sites"):
            parsed.sites = attempt(
                "sites", lambda text: places.parse_sites(text, self.lookups.country)
            )
        if self.has("targets"):
            parsed.targets = attempt("targets", self.standard_indicators.parse_targets)
        if len(self.report.errors) > errors_before:
            return None
        return parsed

    def lead_unit(self, text: str) -> int:
        name, country = split_partner_name(text)
        pk = self.lookups.partner(name, self.lookups.country(country) if country else None)
        if pk is None:
            raise MatchError(_("Unknown lead unit %(value)s.") % {"value": text})
        return pk

    def participations(self, text: str, countries) -> list[services.PartnerRole]:
        result = []
        for item in split_items(text):
            role = Participation.Role.PARTNER
            if item.value:
                role = ROLES.match(item.value)
                if role is None:
                    raise MatchError(
                        _("%(value)s is not a role; use one of: %(allowed)s.")
                        % {"value": item.value, "allowed": ROLES.allowed()}
                    )
            name, country_text = split_partner_name(item.name)
            country = self.lookups.country(country_text) if country_text else None
            pk = self.lookups.partner(name, country)
            if pk is None:
                pk = self.missing_partner(name, country, countries)
            result.append(services.PartnerRole(pk, role))
        return result

    def missing_partner(self, name: str, country: str | None, countries) -> int:
        if not self.create_partners:
            raise MatchError(
                _(
                    "Unknown partner %(value)s. Enter it first, or ask for missing partners "
                    "to be created."
                )
                % {"value": name}
            )
        if country is None and countries and len(countries) == 1:
            country = countries[0].country_id
        if country is None:
            raise MatchError(
                _("To create the partner %(value)s, give its country: %(value)s@LA.")
                % {"value": name}
            )
        if not access.can_manage_partners(self.actor):
            raise MatchError(
                _("You may not create partners; ask for %(value)s to be entered.") % {"value": name}
            )
        key = (name, country)
        if key not in self.partners_created:
            partner = create_partner_for_import(actor=self.actor, name=name, country_id=country)
            self.lookups.add_partner(partner.pk, partner.name_zh, partner.name_en, "", country)
            self.partners_created[key] = partner.pk
            self.report.created_partners.append(
                f"{partner.name_zh} ({country}, {partner.get_kind_display()})"
            )
        return self.partners_created[key]

    # -- writing --

    def handle_batch(self, rows) -> None:
        pending = []
        for row in rows:
            parsed = self.parse(row)
            result = RowResult(row.number, ERROR, parsed.code if parsed else "")
            self.report.results.append(result)
            if parsed is not None:
                pending.append((parsed, result))
        codes = {parsed.code for parsed, _result in pending if parsed.code}
        # Locked as project_update would lock them, so nothing changes under the import.
        existing = {p.code: p for p in Project.objects.select_for_update().filter(code__in=codes)}
        visible = set(
            access.visible_projects(self.actor, Project.objects.filter(code__in=codes)).values_list(
                "code", flat=True
            )
        )
        similar = self.similar_projects([parsed for parsed, _result in pending if not parsed.code])
        fast = bulk.enabled()
        state = bulk.CurrentState(list(existing.values())) if fast and existing else None
        to_create = []
        # Errors of the writes below are reported in row order, as one row at a time would.
        first_write_error = len(self.report.errors)
        for parsed, result in pending:
            if parsed.code:
                if self.check_code(parsed, visible):
                    self.update(parsed, result, existing[parsed.code], state)
            elif fast:
                to_create.append((parsed, result))
            else:
                self.create(parsed, result)
        if to_create:
            created = services.projects_create_many(
                actor=self.actor,
                projects=[
                    services.NewProject(
                        data=parsed.data,
                        **{name: value or () for name, value in self.links(parsed).items()},
                    )
                    for parsed, _result in to_create
                ],
                numbers=self.numbers,
            )
            for (parsed, result), outcome in zip(to_create, created, strict=True):
                if isinstance(outcome, DomainError):
                    self.report_error(parsed, outcome, None)
                else:
                    self.created(parsed, result, outcome, similar)
            self.report.errors[first_write_error:] = sorted(
                self.report.errors[first_write_error:], key=lambda error: error.row
            )
        for parsed, result in pending:
            if result.action == CREATE and not fast:
                self.warn_if_twin(parsed, result, similar)

    def similar_projects(self, creates: list[ParsedRow]) -> dict[tuple, str]:
        titles_zh = {p.data.get("title_zh") for p in creates} - {None, ""}
        titles_en = {p.data.get("title_en") for p in creates} - {None, ""}
        if not titles_zh and not titles_en:
            return {}
        found = {}
        for code, lead_unit_id, title_zh, title_en in Project.objects.filter(
            Q(title_zh__in=titles_zh) | Q(title_en__in=titles_en)
        ).values_list("code", "lead_unit_id", "title_zh", "title_en"):
            for language, title in (("zh", title_zh), ("en", title_en)):
                if title:
                    found.setdefault((language, lead_unit_id, title), code)
        return found

    def check_code(self, parsed: ParsedRow, visible) -> bool:
        first = self.codes_seen.setdefault(parsed.code, parsed.row)
        if first != parsed.row:
            self.report.add_error(
                parsed.row,
                self.label("code"),
                _("The code %(code)s is already on row %(row)s.")
                % {"code": parsed.code, "row": first},
            )
            return False
        if parsed.code not in visible:
            # Same message whether the code does not exist or is someone else's.
            self.report.add_error(
                parsed.row,
                self.label("code"),
                _("No project has the code %(code)s.") % {"code": parsed.code},
            )
            return False
        return True

    def links(self, parsed: ParsedRow) -> dict:
        return {
            "countries": parsed.countries,
            "sectors": parsed.sectors,
            "participations": parsed.participations,
            "tags": parsed.tags,
        }

    def update(self, parsed: ParsedRow, result: RowResult, project: Project, state) -> None:
        if (
            state is not None
            and not parsed.sites
            and not parsed.targets
            and access.can_edit_project(self.actor, project)
            and state.unchanged(project, parsed)
        ):
            result.action, result.label = UNCHANGED, project.title
            return
        try:
            project, changed = services.project_update(
                actor=self.actor, project=project, data=parsed.data, **self.links(parsed)
            )
        except DomainError as error:
            self.report_error(parsed, error, project)
            return
        changed = self.write_places(parsed, project) or changed
        result.action = UPDATE if changed else UNCHANGED
        result.label = project.title

    def create(self, parsed: ParsedRow, result: RowResult) -> None:
        try:
            project = services.project_create(
                actor=self.actor,
                data=parsed.data,
                **{name: value or () for name, value in self.links(parsed).items()},
            )
        except DomainError as error:
            self.report_error(parsed, error, None)
            return
        self.created(parsed, result, project, None)

    def created(self, parsed: ParsedRow, result: RowResult, project: Project, similar) -> None:
        result.action = CREATE
        # A dry run's new codes are rolled back; showing them would promise too much.
        result.code = project.code if self.commit else ""
        result.label = project.title
        self.write_places(parsed, project)
        if similar is not None:
            self.warn_if_twin(parsed, result, similar)

    def write_places(self, parsed: ParsedRow, project: Project) -> bool:
        """The row's sites and targets, through their services, once its project is
        written (a site's country is checked against the countries just set). Errors are
        the row's, in the column's cell; the run then writes nothing."""
        changed = False
        for key, items, write in (
            ("sites", parsed.sites, places.write_sites),
            ("targets", parsed.targets, places.write_targets),
        ):
            if not items:
                continue
            written, errors = write(actor=self.actor, project=project, **{key: items})
            changed = changed or written
            for message in errors:
                self.report.add_error(parsed.row, self.label(key), message)
        return changed

    def report_error(self, parsed: ParsedRow, error: DomainError, project) -> None:
        if isinstance(error, InvalidData):
            for name, messages in error.errors.items():
                column = "" if name in {"__all__", "non_field_errors"} else self.label(name)
                self.report.add_error(parsed.row, column, " ".join(str(m) for m in messages))
        elif isinstance(error, NotAllowed):
            column = "lead_unit"
            if project is not None and not access.can_edit_project(self.actor, project):
                column = "code"
            self.report.add_error(parsed.row, self.label(column), str(error))
        else:
            self.report.add_error(parsed.row, "", str(error))

    def warn_if_twin(self, parsed: ParsedRow, result: RowResult, similar) -> None:
        keys = [
            (language, parsed.data.get("lead_unit"), parsed.data.get(f"title_{language}"))
            for language in ("zh", "en")
            if parsed.data.get(f"title_{language}")
        ]
        earlier_row = next((self.titles_created[k] for k in keys if k in self.titles_created), None)
        twin_code = next((similar[k] for k in keys if k in similar), None)
        if earlier_row:
            result.warnings.append(
                _("Row %(row)s has the same title and lead unit; this row adds another project.")
                % {"row": earlier_row}
            )
        elif twin_code:
            result.warnings.append(
                _(
                    "A project with the same title and lead unit exists (%(code)s); this row "
                    "adds another one. To update that project, put its code in the code column."
                )
                % {"code": twin_code}
            )
        for key in keys:
            self.titles_created.setdefault(key, parsed.row)


def create_partner_for_import(*, actor, name: str, country_id: str) -> Partner:
    """A partner named in a project file that is not in the registry yet. The name goes
    in both languages' slot that fits; the kind is a guess the user reviews afterwards."""
    has_chinese = any("\u4e00" <= ch <= "\u9fff" for ch in name)
    partner = Partner(
        name_zh=name,
        name_en="" if has_chinese else name,
        kind=Partner.Kind.ENTERPRISE,
        country_id=country_id,
    )
    try:
        partner.full_clean()
    except Exception as error:
        raise MatchError(
            _("The partner %(value)s cannot be created: %(error)s")
            % {"value": name, "error": error}
        ) from None
    partner._history_user = actor
    with transaction.atomic():
        partner.save()
    return partner


def import_projects(
    table: Table,
    *,
    actor,
    commit: bool = False,
    create_partners: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of `table` by running it, and keep the result only when `commit`
    is asked and no row has an error. The dry run is the same run, rolled back."""
    report = ImportReport(
        total_rows=len(table.rows), file_format=table.format, encoding=table.encoding
    )
    if not access.can_create_project(actor):
        report.add_error(0, "", _("You may not import projects."))
        return report
    run = ProjectImport(
        table, actor=actor, commit=commit, create_partners=create_partners, report=report
    )
    if report.errors:
        return report
    run.lookups = Lookups()
    run.standard_indicators = places.StandardIndicators()
    run.numbers = code_numbers(run, commit=commit)
    return run_all_or_nothing(
        table.rows, run.handle_batch, report, commit=commit, progress=progress
    )


# Preview rows are numbered far above any real code, so they can never meet a project
# created meanwhile (the preview is rolled back; its codes are never shown).
PREVIEW_FIRST_NUMBER = 10**12


def code_numbers(run: "ProjectImport", *, commit: bool) -> Iterator[int]:
    """The numbers the import's new projects will get. A commit reserves a block from
    the code sequence before its transaction opens, in a short transaction of its own, so
    the sequence row is locked only while the block is taken (never for the whole
    import: other users create projects meanwhile). Numbers of rows that fail are
    skipped; numbers are never handed out twice. A preview takes none."""
    if not commit:
        return itertools.count(PREVIEW_FIRST_NUMBER)
    if run.has("code"):
        creates = sum(1 for row in run.table.rows if not run.cell(row, "code"))
    else:
        creates = len(run.table.rows)
    first = CodeSequence.take("project", count=creates) if creates else 1
    return iter(range(first, first + creates))
