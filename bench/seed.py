"""Fill PostgreSQL with a pool of N projects of realistic shape, fast (COPY).

    DATABASE_URL=postgres://… DJANGO_SETTINGS_MODULE=registry.settings \
        python bench/seed.py --projects 100000 [--partners 2000] [--reset]

Rows go straight into the real tables with `COPY … FROM STDIN` (psycopg 3), column names
taken from the models' `_meta`, so the seed follows the schema. Project codes come from the
same `CodeSequence` the app uses, reserved as one block, so projects created afterwards get
fresh codes. Reference data (`manage.py load_reference`) must be loaded first.

Shape of each project: a domestic lead unit plus 0-3 other partners (1-4 participations),
1-3 countries and 1-2 sectors with shares summing to 100, Chinese and English titles built
from the corridor's vocabulary, a status spread over the lifecycle with the status changes
that lead to it (0-5) and a simple-history row for the creation and for each change.
"""

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __name__ == "__main__":  # run as a script: make the project importable and set Django up
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    import django

    django.setup()

from django.conf import settings
from django.db import connection as default_connection
from django.db import transaction
from django.db.models import NOT_PROVIDED

from partners.models import Partner
from projects.models import (
    CodeSequence,
    Participation,
    Project,
    ProjectCountry,
    ProjectSector,
    StatusChange,
    format_project_code,
)
from registry.models import Country, Sector

# --- Vocabulary -----------------------------------------------------------------------------

# (Chinese, English, countries the place implies; empty: any corridor country)
PLACES = [
    ("中老铁路", "China-Laos Railway", ["LA"]),
    ("中越跨境", "China-Vietnam cross-border", ["VN"]),
    ("凭祥口岸", "Pingxiang border port", ["VN"]),
    ("东兴", "Dongxing", ["VN"]),
    ("中泰", "China-Thailand", ["TH"]),
    ("中马钦州产业园", "China-Malaysia Qinzhou Industrial Park", ["MY"]),
    ("中印尼", "China-Indonesia", ["ID"]),
    ("中柬", "China-Cambodia", ["KH"]),
    ("中缅", "China-Myanmar", ["MM"]),
    ("中新互联互通", "China-Singapore Connectivity", ["SG"]),
    ("中菲", "China-Philippines", ["PH"]),
    ("澜湄", "Lancang-Mekong", ["LA", "TH", "KH", "MM", "VN"]),
    ("北部湾", "Beibu Gulf", []),
    ("西部陆海新通道", "New Western Land-Sea Corridor", []),
    ("钦州港", "Qinzhou Port", []),
    ("防城港", "Fangchenggang", []),
    ("南宁", "Nanning", []),
    ("中国—东盟", "China-ASEAN", []),
    ("中巴经济走廊", "China-Pakistan Economic Corridor", ["PK"]),
    ("南亚", "South Asia", ["PK", "BD", "LK", "NP", "IN"]),
    ("中哈", "China-Kazakhstan", ["KZ"]),
    ("中亚", "Central Asia", ["KZ", "UZ", "KG", "TJ", "TM"]),
    ("中欧班列", "China-Europe Railway Express", ["KZ", "RU", "PL", "DE"]),
]

# (Chinese, English, sector code)
TOPICS = [
    ("冷链", "cold-chain", "logistics-warehousing"),
    ("海铁联运", "sea-rail intermodal", "logistics-rail"),
    ("跨境物流", "cross-border logistics", "logistics-road"),
    ("港口航运", "port and shipping", "logistics-shipping"),
    ("海外仓", "overseas warehouse", "logistics-warehousing"),
    ("通关便利化", "customs facilitation", "trade-facilitation"),
    ("跨境电商", "cross-border e-commerce", "trade-ecommerce"),
    ("会展", "trade fair", "trade-promotion"),
    ("农产品", "agricultural products", "agriculture-food"),
    ("热带水果", "tropical fruit", "agriculture-food"),
    ("农业技术", "agricultural technology", "agriculture-technology"),
    ("职业教育", "vocational education", "education-vocational"),
    ("留学生", "international student", "education-higher"),
    ("跨境旅游", "cross-border tourism", "culture-tourism"),
    ("文化交流", "cultural exchange", "culture-heritage"),
    ("中医药", "traditional Chinese medicine", "health-medicine"),
    ("疾病防控", "disease control", "health-disease"),
    ("数字贸易", "digital trade", "digital-services"),
    ("数据中心", "data centre", "digital-infrastructure"),
    ("跨境支付", "cross-border payment", "finance-payments"),
    ("人民币结算", "RMB settlement", "finance-payments"),
    ("新能源", "new energy", "industry-energy"),
    ("电子制造", "electronics manufacturing", "industry-manufacturing"),
    ("产业园", "industrial park", "industry-parks"),
    ("标准互认", "standards recognition", "legal-standards"),
    ("法律服务", "legal services", "legal-training"),
    ("联合实验室", "joint laboratory", "science-research"),
    ("技术转移", "technology transfer", "science-research"),
]

# (Chinese, English, kind)
FORMS = [
    ("合作项目", "cooperation project", "project"),
    ("示范工程", "demonstration project", "project"),
    ("建设项目", "construction project", "project"),
    ("服务平台", "service platform", "project"),
    ("能力建设", "capacity building", "project"),
    ("联合研究", "joint research", "project"),
    ("培训班", "training course", "activity"),
    ("推介会", "promotion event", "activity"),
    ("论坛", "forum", "activity"),
    ("交流活动", "exchange programme", "activity"),
]
PHASES = [("", ""), ("", ""), ("", ""), ("（二期）", " (phase II)"), ("（三期）", " (phase III)")]  # noqa: RUF001

# Foreign partner countries, weighted like the pool today: most in a few ASEAN states,
# South and Central Asia thin.
PARTNER_COUNTRIES = {
    "VN": 14, "TH": 12, "LA": 10, "MY": 10, "ID": 8, "SG": 8, "KH": 6, "MM": 5, "PH": 4,
    "BN": 1, "TL": 1, "PK": 3, "BD": 2, "LK": 2, "NP": 1, "IN": 1, "KZ": 3, "UZ": 2,
    "KG": 1, "TJ": 1, "TM": 1, "RU": 2, "AE": 1, "SA": 1, "EG": 1, "TR": 1, "DE": 1,
    "FR": 1, "GB": 1, "AU": 1, "NZ": 1, "JP": 1, "KR": 1, "BR": 1, "ZA": 1, "KE": 1,
}  # fmt: skip
PROJECT_COUNTRIES = {
    "VN": 14, "LA": 10, "TH": 12, "MY": 9, "ID": 8, "SG": 6, "KH": 6, "MM": 5, "PH": 4,
    "BN": 1, "TL": 1, "PK": 3, "BD": 2, "LK": 2, "NP": 1, "IN": 1, "KZ": 3, "UZ": 2,
    "KG": 1, "TJ": 1, "TM": 1, "RU": 2, "AE": 1, "DE": 1, "PL": 1, "AU": 1,
}  # fmt: skip

CITIES = [
    ("南宁", "Nanning"), ("钦州", "Qinzhou"), ("北海", "Beihai"), ("防城港", "Fangchenggang"),
    ("柳州", "Liuzhou"), ("桂林", "Guilin"), ("崇左", "Chongzuo"), ("凭祥", "Pingxiang"),
    ("百色", "Baise"), ("玉林", "Yulin"), ("梧州", "Wuzhou"), ("贵港", "Guigang"),
    ("河池", "Hechi"), ("贺州", "Hezhou"), ("来宾", "Laibin"), ("东兴", "Dongxing"),
]  # fmt: skip
TRADES = [
    ("国际物流", "International Logistics"), ("冷链物流", "Cold Chain Logistics"),
    ("港务", "Port"), ("国际贸易", "International Trade"), ("农业发展", "Agricultural Development"),
    ("文化旅游", "Culture and Tourism"), ("数字科技", "Digital Technology"),
    ("能源", "Energy"), ("电子", "Electronics"), ("医药", "Pharmaceutical"),
    ("投资", "Investment"), ("供应链", "Supply Chain"), ("产业园", "Industrial Park"),
    ("跨境电商", "Cross-border E-commerce"), ("建设", "Construction"), ("会展", "Exhibition"),
]  # fmt: skip
# (kind, Chinese suffix, English suffix)
DOMESTIC_KINDS = [
    ("enterprise", "有限公司", "Co., Ltd."),
    ("enterprise", "集团", "Group"),
    ("government", "局", "Bureau"),
    ("government", "促进中心", "Promotion Centre"),
    ("chamber", "商会", "Chamber of Commerce"),
    ("chamber", "协会", "Association"),
    ("academic", "职业技术学院", "Vocational and Technical College"),
    ("academic", "研究院", "Research Institute"),
    ("financial", "银行分行", "Bank Branch"),
]
FOREIGN_KINDS = [
    ("enterprise", "公司", "Company"),
    ("enterprise", "控股公司", "Holdings"),
    ("government", "部", "Ministry"),
    ("government", "投资促进局", "Investment Promotion Agency"),
    ("chamber", "工商会", "Chamber of Commerce and Industry"),
    ("chamber", "华商会", "Chinese Business Association"),
    ("academic", "大学", "University"),
    ("international", "合作组织", "Cooperation Organisation"),
    ("financial", "开发银行", "Development Bank"),
    ("ngo", "基金会", "Foundation"),
]

# Status → the status changes that lead there from draft, as (action, to_status).
PATHS = {
    "draft": [],
    "submitted": [("submit", "submitted")],
    "screening": [("submit", "submitted"), ("start_screening", "screening")],
    "selected": [("submit", "submitted"), ("start_screening", "screening"), ("select", "selected")],
    "not_selected": [
        ("submit", "submitted"), ("start_screening", "screening"), ("reject", "not_selected"),
    ],
    "in_progress": [
        ("submit", "submitted"), ("start_screening", "screening"), ("select", "selected"),
        ("start", "in_progress"),
    ],
    "completed": [
        ("submit", "submitted"), ("start_screening", "screening"), ("select", "selected"),
        ("start", "in_progress"), ("complete", "completed"),
    ],
    "suspended": [
        ("submit", "submitted"), ("start_screening", "screening"), ("select", "selected"),
        ("start", "in_progress"), ("suspend", "suspended"),
    ],
    "withdrawn": [("submit", "submitted"), ("withdraw", "withdrawn")],
    "archived": [
        ("submit", "submitted"), ("start_screening", "screening"), ("reject", "not_selected"),
        ("archive", "archived"),
    ],
}  # fmt: skip
STATUS_WEIGHTS = {
    "draft": 12, "submitted": 10, "screening": 8, "selected": 10, "not_selected": 8,
    "in_progress": 25, "completed": 12, "suspended": 3, "withdrawn": 5, "archived": 7,
}  # fmt: skip
# (currency, weight, typical value in that currency)
CURRENCIES = [
    ("CNY", 50, 5e6), ("USD", 22, 8e5), ("THB", 5, 2.5e7), ("VND", 5, 1.8e10),
    ("MYR", 4, 3.5e6), ("IDR", 4, 1.2e10), ("SGD", 3, 1e6), ("LAK", 3, 1.6e10),
    ("EUR", 3, 7e5), ("KHR", 1, 3e9),
]  # fmt: skip
SHARE_SPLITS = {
    1: [(100,)],
    2: [(50, 50), (60, 40), (70, 30), (80, 20)],
    3: [(40, 30, 30), (50, 30, 20), (60, 20, 20), (34, 33, 33)],
}
ROLES = ["funding", "implementing", "partner", "partner", "supporting"]

# Tables the seed fills, children first: `--reset` empties them (pool data only; users,
# groups and reference data stay).
POOL_MODELS = [
    "projects.HistoricalProject_tags",
    "projects.HistoricalParticipation",
    "projects.HistoricalProjectCountry",
    "projects.HistoricalProjectSector",
    "projects.HistoricalProgressUpdate",
    "projects.HistoricalReview",
    "projects.HistoricalSupportDecision",
    "projects.HistoricalProject",
    "projects.StatusChange",
    "projects.ProgressUpdate",
    "projects.SupportDecision",
    "projects.Review",
    "projects.Participation",
    "projects.ProjectCountry",
    "projects.ProjectSector",
    "projects.Project_tags",
    "projects.Project",
    "partners.HistoricalMembership",
    "partners.HistoricalContact",
    "partners.HistoricalPartner",
    "partners.Membership",
    "partners.Contact",
    "partners.Partner",
]


class SeedError(Exception):
    """The database is not one the seed can fill (wrong engine, no reference data)."""


@dataclass
class SeedReport:
    projects: int = 0
    partners: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0
    first_code: str = ""
    last_code: str = ""

    def add(self, table: str, rows: int, seconds: float) -> None:
        self.rows[table] = self.rows.get(table, 0) + rows
        self.seconds[table] = self.seconds.get(table, 0.0) + seconds

    def as_dict(self) -> dict:
        return {
            "projects": self.projects,
            "partners": self.partners,
            "first_code": self.first_code,
            "last_code": self.last_code,
            "total_seconds": round(self.total_seconds, 2),
            "tables": {
                table: {"rows": self.rows[table], "seconds": round(self.seconds[table], 2)}
                for table in self.rows
            },
        }

    def lines(self) -> list[str]:
        out = [f"{'table':<36} {'rows':>10} {'seconds':>8} {'rows/s':>9}"]
        for table, rows in self.rows.items():
            seconds = self.seconds[table]
            rate = rows / seconds if seconds else 0
            out.append(f"{table:<36} {rows:>10,} {seconds:>8.2f} {rate:>9,.0f}")
        out.append(f"{'total (incl. generation, VACUUM)':<36} {'':>10} {self.total_seconds:>8.2f}")
        return out


def _columns(model, names: list[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in names]


def _check_covered(model, names: list[str], generated: set[str]) -> None:
    """Fail loudly when the model grew a required column the seed does not fill."""
    covered = set(names) | generated
    missing = [
        f.name
        for f in model._meta.concrete_fields
        # Django's defaults live in Python, so a NOT NULL column left out of COPY fails.
        if f.name not in covered and not f.null and f.db_default is NOT_PROVIDED
    ]
    if missing:
        raise SeedError(
            f"{model._meta.label} has required fields the seed does not fill: {missing}; "
            "add them to bench/seed.py."
        )


def _copy(cursor, report: SeedReport, model, names: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    table = model._meta.db_table
    columns = ", ".join(f'"{c}"' for c in _columns(model, names))
    started = time.perf_counter()
    with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
    report.add(table, len(rows), time.perf_counter() - started)


def _raw_cursor(connection):
    """The psycopg cursor under Django's wrapper (COPY is psycopg's, not Django's)."""
    return connection.cursor().cursor


def check_database(connection) -> None:
    if connection.vendor != "postgresql":
        raise SeedError(
            "The seed needs PostgreSQL (it uses COPY); this database is "
            f"{connection.vendor}. Set DATABASE_URL=postgres://user@host:port/dbname."
        )
    if not Country.objects.exists() or not Sector.objects.exists():
        raise SeedError("Reference data is missing: run `python manage.py load_reference` first.")


def reset_pool(connection) -> None:
    from django.apps import apps

    tables = ", ".join(f'"{apps.get_model(label)._meta.db_table}"' for label in POOL_MODELS)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def _reserve_ids(cursor, model, count: int) -> int:
    """Lock the table against other writers and return the first of `count` free ids; the
    identity sequence is moved past them after the copy (`_advance_identity`)."""
    table = model._meta.db_table
    cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
    cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')
    return cursor.fetchone()[0] + 1 if count else 0


def _advance_identity(cursor, model) -> None:
    table = model._meta.db_table
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
        f'greatest((SELECT max(id) FROM "{table}"), 1))',
        [table],
    )


def _weighted(weights: dict) -> tuple[list, list]:
    return list(weights), list(weights.values())


# --- Partners -------------------------------------------------------------------------------

PARTNER_FIELDS = [
    "id", "name_zh", "name_en", "kind", "country", "website", "description", "org_id",
    "active", "created_at", "updated_at",
]  # fmt: skip
HISTORICAL_PARTNER_FIELDS = [
    "id", "name_zh", "name_en", "kind", "country", "website", "description", "org_id",
    "active", "created_at", "history_date", "history_type", "history_change_reason",
    "history_user",
]  # fmt: skip


def _partner_names(rng, count: int, domestic: bool, country: Country, taken: set):
    """Unique (Chinese, English, kind) names for partners in one country."""
    kinds = DOMESTIC_KINDS if domestic else FOREIGN_KINDS
    names = []
    place_zh, place_en = (
        ("广西", "Guangxi") if domestic else (country.name_zh or country.name_en, country.name_en)
    )
    attempts = 0
    while len(names) < count:
        attempts += 1
        trade_zh, trade_en = rng.choice(TRADES)
        kind, suffix_zh, suffix_en = rng.choice(kinds)
        if domestic:
            city_zh, city_en = rng.choice(CITIES)
            name_zh, name_en = (
                f"{city_zh}{trade_zh}{suffix_zh}",
                f"{city_en} {trade_en} {suffix_en}",
            )
        else:
            name_zh = f"{place_zh}{trade_zh}{suffix_zh}"
            name_en = f"{place_en} {trade_en} {suffix_en}"
        if attempts > 50 * count:  # vocabulary exhausted: number the branches
            name_zh, name_en = f"{name_zh}第{attempts}分支", f"{name_en} No. {attempts}"
        if (name_zh, country.iso2) in taken:
            continue
        taken.add((name_zh, country.iso2))
        names.append((name_zh, name_en, kind))
    return names


def seed_partners(cursor, rng, report: SeedReport, count: int, now: datetime) -> None:
    HistoricalPartner = Partner.history.model
    _check_covered(Partner, PARTNER_FIELDS, {"id"})
    if count <= 0:
        return
    countries = {c.iso2: c for c in Country.objects.all()}
    home = settings.REGISTRY_HOME_COUNTRY
    taken = set(Partner.objects.values_list("name_zh", "country_id"))
    domestic_count = int(count * 0.4)
    codes, weights = _weighted({k: v for k, v in PARTNER_COUNTRIES.items() if k in countries})
    per_country = {home: domestic_count}
    for iso2 in rng.choices(codes, weights, k=count - domestic_count):
        per_country[iso2] = per_country.get(iso2, 0) + 1
    next_id = _reserve_ids(cursor, Partner, count)
    rows, history = [], []
    for iso2, n in per_country.items():
        for name_zh, name_en, kind in _partner_names(rng, n, iso2 == home, countries[iso2], taken):
            created = now - timedelta(days=rng.randint(400, 3000), seconds=rng.randint(0, 86400))
            org_id = f"{iso2}-REG-{next_id:07d}" if rng.random() < 0.3 else ""
            website = f"https://partner{next_id}.example.org" if rng.random() < 0.6 else ""
            row = (next_id, name_zh, name_en, kind, iso2, website, "", org_id, True, created)
            rows.append((*row, created))
            history.append((*row, created, "+", None, None))
            next_id += 1
    _copy(cursor, report, Partner, PARTNER_FIELDS, rows)
    _copy(cursor, report, HistoricalPartner, HISTORICAL_PARTNER_FIELDS, history)
    _advance_identity(cursor, Partner)
    report.partners += len(rows)


# --- Projects -------------------------------------------------------------------------------

PROJECT_FIELDS = [
    "id", "code", "title_zh", "title_en", "summary_zh", "summary_en", "kind", "status",
    "lead_unit", "planned_start", "planned_end", "actual_start", "actual_end",
    "estimated_value", "currency", "support_requested", "risk_level", "risk_notes",
    "internal_notes", "next_review_due", "screening_round", "version", "created_by",
    "created_at", "updated_at",
]  # fmt: skip
# The historical row holds the project's state at that time (updated_at is not tracked).
HISTORICAL_PROJECT_FIELDS = [
    *(name for name in PROJECT_FIELDS if name != "updated_at"),
    "history_date", "history_type", "history_change_reason", "history_user",
]  # fmt: skip
COUNTRY_FIELDS = ["project", "country", "share"]
SECTOR_FIELDS = ["project", "sector", "share"]
PARTICIPATION_FIELDS = ["project", "partner", "role"]
STATUS_CHANGE_FIELDS = ["project", "action", "from_status", "to_status", "actor", "reason",
                        "reason_visible_to_partners", "created_at"]  # fmt: skip
FIELD_INDEX = {name: i for i, name in enumerate(PROJECT_FIELDS)}


@dataclass
class Vocabulary:
    """What the generator draws from, loaded once from the database."""

    domestic_ids: list[int]
    foreign_ids: list[int]
    sector_ids: dict[str, int]
    country_codes: list[str]
    country_weights: list[int]


def load_vocabulary() -> Vocabulary:
    home = settings.REGISTRY_HOME_COUNTRY
    partners = list(Partner.objects.values_list("id", "country_id"))
    domestic = [pk for pk, iso2 in partners if iso2 == home]
    foreign = [pk for pk, iso2 in partners if iso2 != home]
    if not domestic or not foreign:
        raise SeedError("The seed needs domestic and foreign partners; run with --partners.")
    sector_ids = dict(Sector.objects.values_list("code", "id"))
    missing = {code for _, _, code in TOPICS} - set(sector_ids)
    if missing:
        raise SeedError(f"Sectors missing from the reference data: {sorted(missing)}")
    known = set(Country.objects.values_list("iso2", flat=True))
    codes, weights = _weighted({k: v for k, v in PROJECT_COUNTRIES.items() if k in known})
    return Vocabulary(domestic, foreign, sector_ids, codes, weights)


def _value(rng) -> tuple[str | None, str]:
    if rng.random() < 0.1:
        return None, ""
    currency, _, typical = rng.choices(CURRENCIES, [w for _, w, _ in CURRENCIES])[0]
    amount = typical * rng.lognormvariate(0, 1.1)
    return f"{amount:.2f}", currency


def _project_rows(rng, vocab: Vocabulary, project_id: int, number: int, now: datetime, out):
    """Append one project and its related rows to the lists in `out`."""
    place_zh, place_en, place_countries = rng.choice(PLACES)
    topic_zh, topic_en, topic_sector = rng.choice(TOPICS)
    form_zh, form_en, kind = rng.choice(FORMS)
    phase_zh, phase_en = rng.choice(PHASES)
    title_zh = f"{place_zh}{topic_zh}{form_zh}{phase_zh}"
    title_en = f"{place_en} {topic_en} {form_en}{phase_en}"
    summary_zh = (
        f"依托{place_zh}，围绕{topic_zh}开展{form_zh}，对接双方供应链与市场资源，"  # noqa: RUF001
        "推动合作由活动交流向实体项目转化。"
    )
    summary_en = (
        f"A {form_en} on {topic_en} along the {place_en}, linking supply chains and "
        "markets on both sides."
    )
    status = rng.choices(STATUS_NAMES, STATUS_WEIGHT_VALUES)[0]
    path = PATHS[status]
    created = now - timedelta(days=rng.uniform(30, 6 * 365))
    times, moment = [], created
    for _ in path:
        moment = min(moment + timedelta(days=rng.uniform(3, 90)), now)
        times.append(moment)
    updated = times[-1] if times else created
    planned_start = (created + timedelta(days=rng.randint(30, 240))).date()
    planned_end = planned_start + timedelta(days=rng.randint(90, 1500))
    actual_start = actual_end = next_review = None
    if status in ("in_progress", "completed", "suspended"):
        actual_start = times[3].date()
        if status == "completed":
            actual_end = max(times[4].date(), actual_start)
    if status in ("selected", "in_progress"):
        next_review = (updated + timedelta(days=365)).date()
    value, currency = _value(rng)
    risk = rng.choices(("low", "medium", "high"), (4, 5, 1))[0]
    screened = any(to_status == "screening" for _, to_status in path)
    row = [
        project_id, format_project_code(number), title_zh, title_en, summary_zh, summary_en,
        kind, status, rng.choice(vocab.domestic_ids), planned_start, planned_end,
        actual_start, actual_end, value, currency,
        "资金支持、政策协调与对接服务" if rng.random() < 0.5 else "",
        risk, "汇率与跨境结算风险" if risk == "high" else "", "",
        next_review, 1 if screened else 0, 1 + len(path), None, created, updated,
    ]  # fmt: skip
    out["projects"].append(tuple(row))

    # History: the creation as a draft, then one row per status change, each holding the
    # project as that change left it (updated_at is not tracked).
    history = out["history"]
    state = row[:-1]
    for name, value in (
        ("status", "draft"),
        ("version", 1),
        ("screening_round", 0),
        ("next_review_due", None),
        ("actual_start", None),
        ("actual_end", None),
    ):
        state[FIELD_INDEX[name]] = value  # fmt: skip
    history.append((*state, created, "+", None, None))
    previous = "draft"
    for version, ((action, to_status), moment) in enumerate(zip(path, times, strict=True), 2):
        state[FIELD_INDEX["status"]] = to_status
        state[FIELD_INDEX["version"]] = version
        if to_status == "screening":
            state[FIELD_INDEX["screening_round"]] = 1
        if to_status == "in_progress":
            state[FIELD_INDEX["actual_start"]] = actual_start
        if to_status == "completed":
            state[FIELD_INDEX["actual_end"]] = actual_end
        if to_status == status:
            state[FIELD_INDEX["next_review_due"]] = next_review
        history.append((*state, moment, "~", None, None))
        out["changes"].append((project_id, action, previous, to_status, None, "", False, moment))
        previous = to_status

    countries = list(dict.fromkeys(place_countries and [rng.choice(place_countries)]))
    wanted = rng.choices((1, 2, 3), (5, 3, 2))[0]
    while len(countries) < wanted:
        iso2 = rng.choices(vocab.country_codes, vocab.country_weights)[0]
        if iso2 not in countries:
            countries.append(iso2)
    for iso2, share in zip(countries, rng.choice(SHARE_SPLITS[len(countries)]), strict=True):
        out["countries"].append((project_id, iso2, share))

    sectors = [topic_sector]
    if rng.random() < 0.4:
        other = rng.choice(TOPICS)[2]
        if other != topic_sector:
            sectors.append(other)
    for code, share in zip(sectors, rng.choice(SHARE_SPLITS[len(sectors)]), strict=True):
        out["sectors"].append((project_id, vocab.sector_ids[code], share))

    out["participations"].append((project_id, row[FIELD_INDEX["lead_unit"]], "lead"))
    seen = {row[FIELD_INDEX["lead_unit"]]}
    for _ in range(rng.choices((0, 1, 2, 3), (2, 4, 3, 1))[0]):
        pool = vocab.foreign_ids if rng.random() < 0.8 else vocab.domestic_ids
        partner_id = rng.choice(pool)
        if partner_id not in seen:
            seen.add(partner_id)
            out["participations"].append((project_id, partner_id, rng.choice(ROLES)))


STATUS_NAMES = list(STATUS_WEIGHTS)
STATUS_WEIGHT_VALUES = list(STATUS_WEIGHTS.values())


def seed_projects(cursor, rng, report: SeedReport, count: int, now: datetime, chunk: int) -> None:
    HistoricalProject = Project.history.model
    _check_covered(Project, PROJECT_FIELDS, {"id"})
    _check_covered(StatusChange, STATUS_CHANGE_FIELDS, {"id"})
    if count <= 0:
        return
    vocab = load_vocabulary()
    # One block of codes from the app's own sequence: creations after the seed continue
    # past it, and the block is never handed out again.
    first_number = CodeSequence.take("project", count)
    next_id = _reserve_ids(cursor, Project, count)
    report.first_code = format_project_code(first_number)
    report.last_code = format_project_code(first_number + count - 1)
    done = 0
    while done < count:
        size = min(chunk, count - done)
        out = {k: [] for k in ("projects", "history", "changes", "countries", "sectors",
                               "participations")}  # fmt: skip
        started = time.perf_counter()
        for i in range(size):
            _project_rows(rng, vocab, next_id + done + i, first_number + done + i, now, out)
        report.add("(generating rows in Python)", size, time.perf_counter() - started)
        _copy(cursor, report, Project, PROJECT_FIELDS, out["projects"])
        _copy(cursor, report, HistoricalProject, HISTORICAL_PROJECT_FIELDS, out["history"])
        _copy(cursor, report, StatusChange, STATUS_CHANGE_FIELDS, out["changes"])
        _copy(cursor, report, ProjectCountry, COUNTRY_FIELDS, out["countries"])
        _copy(cursor, report, ProjectSector, SECTOR_FIELDS, out["sectors"])
        _copy(cursor, report, Participation, PARTICIPATION_FIELDS, out["participations"])
        done += size
    _advance_identity(cursor, Project)
    report.projects += count


def seed(
    projects: int,
    partners: int = 2000,
    *,
    reset: bool = False,
    random_seed: int = 7,
    chunk: int = 20_000,
    analyze: bool = True,
    connection=None,
    log=None,
) -> SeedReport:
    """Top the pool up to `projects` projects and `partners` partners (only what is missing
    is added), in one transaction, then VACUUM (ANALYZE). Returns rows and seconds per table."""
    connection = connection or default_connection
    check_database(connection)
    log = log or (lambda message: None)
    report = SeedReport()
    started = time.perf_counter()
    rng = random.Random(random_seed)
    now = datetime.now(UTC)
    with transaction.atomic(using=connection.alias):
        if reset:
            reset_pool(connection)
            log("Pool tables emptied.")
        cursor = _raw_cursor(connection)
        # This transaction's own writes need no flush to disk before it commits.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        # The foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at commit, millions of
        # queued checks would pile up in the server's memory; check them per COPY instead.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        missing_partners = max(partners - Partner.objects.count(), 0)
        missing_projects = max(projects - Project.objects.count(), 0)
        log(f"Adding {missing_partners:,} partners and {missing_projects:,} projects.")
        seed_partners(cursor, rng, report, missing_partners, now)
        seed_projects(cursor, rng, report, missing_projects, now, chunk)
    if analyze and (report.partners or report.projects):
        began = time.perf_counter()
        with connection.cursor() as cursor:
            # VACUUM as well: it sets the visibility map that a live database's autovacuum
            # keeps set, without which count(*) cannot use an index-only scan (a page's
            # count of 100,000 projects: 31 ms from the heap, 18 ms from an index).
            cursor.execute("VACUUM (ANALYZE)")
        report.add("(VACUUM ANALYZE)", 0, time.perf_counter() - began)
    report.total_seconds = time.perf_counter() - started
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=100_000, help="pool size wanted")
    parser.add_argument("--partners", type=int, default=2000, help="partners wanted")
    parser.add_argument("--reset", action="store_true", help="empty the pool tables first")
    parser.add_argument("--seed", type=int, default=7, help="random seed (same data each run)")
    parser.add_argument("--chunk", type=int, default=20_000, help="projects per COPY batch")
    args = parser.parse_args(argv)
    try:
        report = seed(
            args.projects,
            args.partners,
            reset=args.reset,
            random_seed=args.seed,
            chunk=args.chunk,
            log=print,
        )
    except SeedError as error:
        print(f"seed: {error}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    if report.projects:
        print(f"Codes {report.first_code} … {report.last_code}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
