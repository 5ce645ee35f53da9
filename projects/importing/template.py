"""The columns of the project import, its example row and its code lists (the columns
and templates of any import: `registry.importing.columns`)."""

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partners.models import Partner
from projects import access
from projects.importing.matching import KINDS, RISK_LEVELS, ROLES
from projects.importing.places import FACILITY_TYPES
from projects.results.models import StandardIndicator
from registry.importing.columns import Column, Columns
from registry.importing.columns import codes_csv as codes_csv
from registry.importing.columns import template_csv as template_csv
from registry.importing.columns import template_xlsx as template_xlsx
from registry.models import Sector

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
        "sites": "万象南站|Vientiane South Station|rail_terminal|17.9012|102.7065|LA; "
        "林查班港|Laem Chabang Port|港口|13.0827|100.8830|TH",
        "targets": "cargo-tonnes 2026 50000; jobs-created 2027 120",
    }


def project_codes() -> list[tuple[str, str, str, str]]:
    rows = [(_("kind"), c, zh, en) for c, zh, en in KINDS.rows()]
    rows += [(_("risk level"), c, zh, en) for c, zh, en in RISK_LEVELS.rows()]
    rows += [(_("participation role"), c, zh, en) for c, zh, en in ROLES.rows()]
    for sector in Sector.objects.select_related("parent").order_by("sort_order", "code"):
        rows.append((_("sector"), sector.code, sector.name_zh, sector.name_en))
    rows += [(_("currency"), c, "", _("any ISO 4217 code")) for c in COMMON_CURRENCIES]
    rows += [(_("facility type"), c, zh, en) for c, zh, en in FACILITY_TYPES.rows()]
    for indicator in StandardIndicator.objects.filter(active=True):
        rows.append(
            (
                _("standard indicator"),
                indicator.code,
                f"{indicator.name_zh} ({indicator.unit})",
                f"{indicator.name_en} ({indicator.unit})",
            )
        )
    return rows


PROJECT_COLUMNS = Columns(
    (
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
            "kind",
            "类型",
            gettext_lazy("project or activity (实质性项目 / 活动). Default: project."),
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
        Column(
            "support_requested", "所需支持", gettext_lazy("Support the project asks the pool for.")
        ),
        Column(
            "risk_level",
            "风险等级",
            gettext_lazy("low, medium or high (低 / 中 / 高). Default: medium."),
        ),
        Column("risk_notes", "风险说明", gettext_lazy("Notes on the risks.")),
        Column("internal_notes", "内部备注", gettext_lazy("Staff only, never shown to partners.")),
        Column("next_review_due", "下次评审日期", gettext_lazy("Date, YYYY-MM-DD.")),
        Column("tags", "标签", gettext_lazy("Words separated by ; or ,.")),
        Column(
            "sites",
            "地点",
            gettext_lazy(
                "Sites separated by ;, each name_zh|name_en|facility type|latitude|longitude|"
                "country, optionally |administrative area: 钦州港|Qinzhou Port|port|21.68|"
                "108.61|CN. One name is enough; facility types in the code list; decimal "
                "degrees; the country must be one of the project's. A site with the name of "
                "one of the project's sites changes it; sites not listed are kept."
            ),
        ),
        Column(
            "targets",
            "指标目标",
            gettext_lazy(
                "Targets separated by ;, each a standard indicator code (code list), a year "
                "and the target: containers-moved 2026 5000; jobs-created 2027 120. Sets the "
                "target of that year's reporting period; targets not listed are kept."
            ),
        ),
    ),
    example=project_example_row,
    codes=project_codes,
)
