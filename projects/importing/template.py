"""The columns of the import files and the downloadable templates.

Headers are bilingual (`项目编号 code`); a file may also use only the Chinese part or only
the code (`项目编号` or `code`), in any order. Columns left out of a file are left
unchanged on update; an empty cell in a column that is present clears the value.
"""

import csv
import io
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partners.models import Partner
from projects import access
from projects.importing.formats import column_letter
from projects.importing.matching import KINDS, PARTNER_KINDS, RISK_LEVELS, ROLES
from registry.models import Country, Sector


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    help: str

    @property
    def header(self) -> str:
        return f"{self.zh} {self.key}"


PROJECT_COLUMNS = (
    Column(
        "code",
        "项目编号",
        gettext_lazy(
            "Empty: a new project is created and gets a code. A code: that project is updated."
        ),
    ),
    Column(
        "title_zh",
        "中文名称",
        gettext_lazy("Title in Chinese (a title in one language is required)."),
    ),
    Column("title_en", "英文名称", gettext_lazy("Title in English.")),
    Column(
        "kind", "类型", gettext_lazy("project or activity (实质性项目 / 活动). Default: project.")
    ),
    Column(
        "lead_unit",
        "牵头单位",
        gettext_lazy("Name (Chinese or English) or org-id of a unit you belong to."),
    ),
    Column(
        "countries",
        "国家及比例",
        gettext_lazy(
            "ISO code or name, optional share in percent: "
            "LA:60; TH:40 or 老挝：60；泰国：40 or LA; TH. "  # noqa: RUF001
            "Shares, when given, add up to 100."
        ),
    ),
    Column(
        "sectors",
        "领域及比例",
        gettext_lazy("Sector code or name, share optional: logistics-rail:70; trade:30."),
    ),
    Column(
        "partners",
        "合作伙伴及角色",
        gettext_lazy(
            "Name or org-id, then the role: 老挝工商会:partner; Lao Bank:funding. Roles: "
            "lead, funding, implementing, partner (default), supporting. Name@LA picks the "
            "institution of that country."
        ),
    ),
    Column("summary_zh", "中文简介", gettext_lazy("Summary in Chinese.")),
    Column("summary_en", "英文简介", gettext_lazy("Summary in English.")),
    Column("planned_start", "计划开始日期", gettext_lazy("Date, YYYY-MM-DD.")),
    Column("planned_end", "计划结束日期", gettext_lazy("Date, YYYY-MM-DD.")),
    Column("actual_start", "实际开始日期", gettext_lazy("Date, YYYY-MM-DD.")),
    Column("actual_end", "实际结束日期", gettext_lazy("Date, YYYY-MM-DD.")),
    Column("estimated_value", "估算金额", gettext_lazy("A number, e.g. 12000000.")),
    Column(
        "currency",
        "币种",
        gettext_lazy("ISO 4217 code: CNY, USD, LAK, THB, VND… Needed with a value."),
    ),
    Column("support_requested", "所需支持", gettext_lazy("Support the project asks the pool for.")),
    Column(
        "risk_level",
        "风险等级",
        gettext_lazy("low, medium or high (低 / 中 / 高). Default: medium."),
    ),
    Column("risk_notes", "风险说明", gettext_lazy("Notes on the risks.")),
    Column("internal_notes", "内部备注", gettext_lazy("Staff only, never shown to partners.")),
    Column("next_review_due", "下次评审日期", gettext_lazy("Date, YYYY-MM-DD.")),
    Column("tags", "标签", gettext_lazy("Words separated by ; or ,.")),
)

PARTNER_COLUMNS = (
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
        gettext_lazy("IATI org-id, e.g. CN-USCI-91450000MA5KXXXX. Matches an existing partner."),
    ),
    Column("description", "简介", gettext_lazy("Description.")),
)

# Columns people sometimes add that the import deliberately refuses, with the reason.
REFUSED_COLUMNS = {
    "status": gettext_lazy(
        "Status cannot be imported: imported projects start as drafts and change status "
        "only through the workflow."
    ),
    "状态": gettext_lazy(
        "Status cannot be imported: imported projects start as drafts and change status "
        "only through the workflow."
    ),
}


def _header_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def match_headers(headers: list[str], columns) -> tuple[dict[int, Column], list[tuple]]:
    """Map header positions to columns; return (mapping, [(index, header, message)])."""
    forms = {}
    for column in columns:
        for form in (
            column.key,
            column.zh,
            column.header,
            f"{column.zh}({column.key})",
            column.key.replace("_", " "),
        ):
            forms[_header_key(form)] = column
    refused = {_header_key(k): v for k, v in REFUSED_COLUMNS.items()}
    mapping: dict[int, Column] = {}
    errors = []
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        if not header.strip():
            continue
        key = _header_key(header)
        # "状态 status" → either half decides.
        parts = [key, *(_header_key(p) for p in header.split())]
        column = next((forms[p] for p in parts if p in forms), None)
        if column is None:
            reason = next((refused[p] for p in parts if p in refused), None)
            errors.append(
                (
                    index,
                    header,
                    str(reason)
                    if reason
                    else _("Unknown column; use the headers of the template."),
                )
            )
            continue
        if column.key in seen:
            errors.append(
                (
                    index,
                    header,
                    _("This column appears twice (also column %(letter)s).")
                    % {"letter": column_letter(seen[column.key])},
                )
            )
            continue
        seen[column.key] = index
        mapping[index] = column
    if not mapping and not errors:
        errors.append((0, "", _("The first row holds no column headers.")))
    return mapping, errors


# --- Templates ---------------------------------------------------------------------------

COMMON_CURRENCIES = (
    "CNY",
    "USD",
    "EUR",
    "LAK",
    "THB",
    "VND",
    "MMK",
    "KHR",
    "MYR",
    "SGD",
    "IDR",
    "PHP",
    "INR",
    "PKR",
    "KZT",
)


def _example_lead_unit(actor) -> str:
    mine = Partner.objects.filter(pk__in=access.member_partner_ids(actor)).order_by("name_zh")
    unit = mine.first() or Partner.objects.domestic().order_by("name_zh").first()
    return unit.name_zh if unit else "广西国际博览事务局"


def _example_partner() -> str:
    partner = (
        Partner.objects.active()
        .exclude(country_id=settings.REGISTRY_HOME_COUNTRY)
        .order_by("name_zh")
        .first()
    )
    return f"{partner.name_zh}:partner" if partner else ""


def project_example_row(actor) -> dict[str, str]:
    return {
        "code": "",
        "title_zh": "中老铁路冷链物流班列",
        "title_en": "China-Laos railway cold-chain freight service",
        "kind": "project",
        "lead_unit": _example_lead_unit(actor),
        "countries": "LA:60; TH:40",
        "sectors": "logistics-rail:70; trade-facilitation:30",
        "partners": _example_partner(),
        "summary_zh": "开行冷链班列，连接东盟农产品与西部陆海新通道。",  # noqa: RUF001
        "summary_en": "Cold-chain freight trains linking ASEAN farm produce to the corridor.",
        "planned_start": "2026-03-01",
        "planned_end": "2027-12-31",
        "actual_start": "",
        "actual_end": "",
        "estimated_value": "12000000",
        "currency": "CNY",
        "support_requested": "通关便利化协调",
        "risk_level": "medium",
        "risk_notes": "",
        "internal_notes": "",
        "next_review_due": "",
        "tags": "冷链; 陆海新通道",
    }


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


def code_lists(columns) -> list[tuple[str, str, str, str]]:
    """(list, code, Chinese, English) rows: the allowed values of the coded columns."""
    rows = []
    if columns is PROJECT_COLUMNS:
        rows += [(_("kind"), c, zh, en) for c, zh, en in KINDS.rows()]
        rows += [(_("risk level"), c, zh, en) for c, zh, en in RISK_LEVELS.rows()]
        rows += [(_("participation role"), c, zh, en) for c, zh, en in ROLES.rows()]
        for sector in Sector.objects.select_related("parent").order_by("sort_order", "code"):
            rows.append((_("sector"), sector.code, sector.name_zh, sector.name_en))
        rows += [(_("currency"), c, "", _("any ISO 4217 code")) for c in COMMON_CURRENCIES]
    if columns is PARTNER_COLUMNS:
        rows += [(_("partner kind"), c, zh, en) for c, zh, en in PARTNER_KINDS.rows()]
    for iso2, iso3, name_zh, name_en in Country.objects.order_by("iso2").values_list(
        "iso2", "iso3", "name_zh", "name_en"
    ):
        rows.append((_("country"), f"{iso2} / {iso3}", name_zh, name_en))
    return rows


def _example(columns, actor) -> dict[str, str]:
    return project_example_row(actor) if columns is PROJECT_COLUMNS else partner_example_row()


def template_csv(columns, actor) -> bytes:
    """UTF-8 with a BOM, which Excel needs to show Chinese correctly."""
    example = _example(columns, actor)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    writer.writerow([example.get(c.key, "") for c in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def codes_csv(columns) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["列表 list", "代码 code", "中文 Chinese", "英文 English"])
    writer.writerows(code_lists(columns))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(columns, actor) -> bytes:
    """Sheet 1: headers and one example row (the sheet that is imported); sheet 2: what
    each column means; sheet 3: the allowed codes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    bold = Font(bold=True)
    sheet = workbook.active
    sheet.title = "导入 import"
    example = _example(columns, actor)
    sheet.append([c.header for c in columns])
    sheet.append([example.get(c.key, "") for c in columns])
    for index, column in enumerate(columns):
        sheet.cell(row=1, column=index + 1).font = bold
        sheet.column_dimensions[column_letter(index)].width = max(14, len(column.header) + 6)
        # Text cells, so Excel does not turn codes or dates into numbers.
        sheet.cell(row=2, column=index + 1).number_format = "@"
    sheet.freeze_panes = "A2"

    help_sheet = workbook.create_sheet("说明 help")
    help_sheet.append(["列 column", "说明 meaning"])
    for column in columns:
        help_sheet.append([column.header, str(column.help)])
    help_sheet.append([])
    help_sheet.append(
        [
            "",
            _(
                "Only the first sheet is imported. Imported projects start as drafts; "
                "status cannot be imported. Formulas are not calculated: paste values."
            ),
        ]
    )
    help_sheet.column_dimensions["A"].width = 24
    help_sheet.column_dimensions["B"].width = 100
    for cell in help_sheet[1]:
        cell.font = bold

    codes = workbook.create_sheet("代码 codes")
    codes.append(["列表 list", "代码 code", "中文 Chinese", "英文 English"])
    for row in code_lists(columns):
        codes.append([str(v) for v in row])
    for letter, width in zip("ABCD", (18, 26, 30, 40), strict=True):
        codes.column_dimensions[letter].width = width
    for cell in codes[1]:
        cell.font = bold

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
