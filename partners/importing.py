"""Importing partner institutions: upsert by org-id, else by Chinese name and country.
The columns, example row and codes of the partner template are here too.

Columns: name_zh, name_en, kind, country, website, org_id, description. A row whose
org-id, or whose (Chinese name, country), matches an institution updates it; any other
row creates one. Unchanged rows write nothing, so re-importing a file is a no-op.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partners import access
from partners.models import Partner
from registry.importing.columns import Column, Columns, match_headers
from registry.importing.formats import Table
from registry.importing.matching import MatchError, ReferenceLookups, Vocabulary
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

# Chinese words people write for the kinds; input vocabulary, not UI text.
PARTNER_KIND_WORDS = {
    Partner.Kind.GOVERNMENT: ("政府", "政府机构", "政府部门"),
    Partner.Kind.CHAMBER: ("商会", "协会", "商协会"),
    Partner.Kind.ENTERPRISE: ("企业", "公司"),
    Partner.Kind.ACADEMIC: ("高校", "大学", "智库", "高校或智库"),
    Partner.Kind.INTERNATIONAL: ("国际组织",),
    Partner.Kind.FINANCIAL: ("金融机构", "银行"),
    Partner.Kind.NGO: ("非政府组织", "社会组织"),
}

PARTNER_KINDS = Vocabulary(Partner.Kind, PARTNER_KIND_WORDS)


def partner_example_row() -> dict[str, str]:
    return {
        "name_zh": "老挝国家工商会",
        "name_en": "Lao National Chamber of Commerce and Industry",
        "kind": "chamber",
        "country": "LA",
        "website": "https://www.lncci.la",
        "org_id": "",
        "description": "",
    }


def partner_codes() -> list[tuple[str, str, str, str]]:
    return [(_("partner kind"), c, zh, en) for c, zh, en in PARTNER_KINDS.rows()]


PARTNER_COLUMNS = Columns(
    (
        Column("name_zh", "中文名称", gettext_lazy("Name in Chinese (required).")),
        Column("name_en", "英文名称", gettext_lazy("Name in English.")),
        Column(
            "kind",
            "类型",
            gettext_lazy(
                "government, chamber, enterprise, academic, international, financial or ngo "
                "(政府 / 商会 / 企业 / 高校 / 国际组织 / 金融机构 / 社会组织)."
            ),
        ),
        Column("country", "国家", gettext_lazy("ISO code or name.")),
        Column("website", "网站", gettext_lazy("Full address, https://…")),
        Column(
            "org_id",
            "机构标识",
            gettext_lazy(
                "IATI org-id, e.g. CN-USCI-91450000MA5KXXXX. Matches an existing partner."
            ),
        ),
        Column("description", "简介", gettext_lazy("Description.")),
    ),
    example=lambda actor: partner_example_row(),
    codes=partner_codes,
)


FIELDS = ("name_zh", "name_en", "kind", "country", "website", "org_id", "description")


def partner_upsert(*, actor, partner: Partner | None, data: dict) -> tuple[Partner, str]:
    """Create a partner, or change the given one; returns it and create/update/unchanged.
    Raises ValidationError with field errors; writes history under `actor`."""
    action = CREATE if partner is None else UPDATE
    partner = partner or Partner()
    changed = [name for name, value in data.items() if getattr(partner, name) != value]
    if action == UPDATE and not changed:
        return partner, UNCHANGED
    for name in changed:
        setattr(partner, name, data[name])
    partner.full_clean()
    partner._history_user = actor
    with transaction.atomic():
        partner.save()
    return partner, action


class PartnerImport:
    def __init__(self, table: Table, *, actor, report: ImportReport):
        self.table = table
        self.actor = actor
        self.report = report
        self.columns, header_errors = match_headers(table.headers, PARTNER_COLUMNS)
        self.index_of = {column.key: index for index, column in self.columns.items()}
        for index, header, message in header_errors:
            report.add_error(1, column_label(index, header), message)
        for required in ("name_zh", "country"):
            if required not in self.index_of:
                report.add_error(
                    1, required, _("The file needs this column to identify institutions.")
                )
        self.lookups: ReferenceLookups | None = None
        self.by_org_id: dict[str, int] = {}
        self.by_name: dict[tuple[str, str], int] = {}
        self.rows_of: dict[int, int] = {}

    def load(self) -> None:
        self.lookups = ReferenceLookups()
        for pk, name_zh, country_id, org_id in Partner.objects.values_list(
            "pk", "name_zh", "country_id", "org_id"
        ):
            self.by_name[(name_zh, country_id)] = pk
            if org_id:
                self.by_org_id[org_id] = pk

    def label(self, key: str) -> str:
        index = self.index_of.get(key)
        return key if index is None else column_label(index, self.table.headers[index])

    def cell(self, row, key: str) -> str:
        index = self.index_of[key]
        value = row.values[index] if index < len(row.values) else ""
        return unicodedata.normalize("NFC", value).strip()

    def parse(self, row) -> dict | None:
        errors_before = len(self.report.errors)
        for index, message in row.cell_errors.items():
            header = self.table.headers[index] if index < len(self.table.headers) else ""
            self.report.add_error(row.number, column_label(index, header), message)
        data = {}
        for key in ("name_zh", "name_en", "website", "description"):
            if key in self.index_of:
                data[key] = self.cell(row, key)
        if "org_id" in self.index_of:
            data["org_id"] = unicodedata.normalize("NFKC", self.cell(row, "org_id"))
        if "kind" in self.index_of and self.cell(row, "kind"):
            kind = PARTNER_KINDS.match(self.cell(row, "kind"))
            if kind is None:
                self.report.add_error(
                    row.number,
                    self.label("kind"),
                    _("%(value)s is not allowed here; use one of: %(allowed)s.")
                    % {"value": self.cell(row, "kind"), "allowed": PARTNER_KINDS.allowed()},
                )
            else:
                data["kind"] = kind
        try:
            data["country_id"] = self.lookups.country(self.cell(row, "country"))
        except MatchError as error:
            self.report.add_error(row.number, self.label("country"), str(error))
        if len(self.report.errors) > errors_before:
            return None
        return data

    def handle_batch(self, rows) -> None:
        wanted = {}
        parsed = []
        for row in rows:
            data = self.parse(row)
            if data is None:
                self.report.results.append(RowResult(row.number, ERROR))
                continue
            pk = self.by_org_id.get(data.get("org_id") or "") or self.by_name.get(
                (data["name_zh"], data["country_id"])
            )
            parsed.append((row, data, pk))
            if pk:
                wanted[pk] = None
        existing = Partner.objects.in_bulk(list(wanted))
        for row, data, pk in parsed:
            self.write(row, data, existing.get(pk) if pk else None)

    def write(self, row, data: dict, partner: Partner | None) -> None:
        result = RowResult(row.number, ERROR, label=data["name_zh"])
        self.report.results.append(result)
        if partner is not None:
            first = self.rows_of.setdefault(partner.pk, row.number)
            if first != row.number:
                self.report.add_error(
                    row.number,
                    "",
                    _("Row %(row)s already names this institution.") % {"row": first},
                )
                return
        try:
            partner, result.action = partner_upsert(actor=self.actor, partner=partner, data=data)
        except ValidationError as error:
            result.action = ERROR
            for name, messages in error.message_dict.items():
                name = "country" if name == "country_id" else name
                column = "" if name == "__all__" else self.label(name)
                self.report.add_error(row.number, column, " ".join(messages))
            return
        self.rows_of.setdefault(partner.pk, row.number)
        self.by_name[(partner.name_zh, partner.country_id)] = partner.pk
        if partner.org_id:
            self.by_org_id[partner.org_id] = partner.pk


def import_partners(
    table: Table, *, actor, commit: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Dry run or commit, all or nothing, like `import_projects`."""
    report = ImportReport(
        total_rows=len(table.rows), file_format=table.format, encoding=table.encoding
    )
    if not access.can_manage_partners(actor):
        report.add_error(0, "", _("You may not import partners."))
        return report
    run = PartnerImport(table, actor=actor, report=report)
    if report.errors:
        return report
    run.load()
    return run_all_or_nothing(
        table.rows, run.handle_batch, report, commit=commit, progress=progress
    )
