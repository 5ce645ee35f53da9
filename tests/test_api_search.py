"""Search over projects: the same rows as a plain substring match whatever the plan (the
probe, a walk, an index-driven rare search), the search text kept by the database, the
indexes each kind of term uses, and the count marked when it is an estimate."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners.models import Partner
from projects.api import search
from projects.api.search import search_projects
from projects.models import Participation, Project
from tests import factories

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

WORDS = [
    "铁路",
    "物流",
    "冷链",
    "港口",
    "跨境",
    "电商",
    "教育",
    "旅游",
    "农业",
    "数字",
    "金融",
    "中老",
    "陆海",
    "新通道",
    "合作",
    "示范",
    "园区",
    "班列",
    "口岸",
    "医疗",
]


def plain_substring_ids(term: str) -> set[int]:
    """The reference answer: Python substring test over every searchable text."""
    term = term.upper()
    ids = set()
    partner_names = {p.pk: (p.name_zh + "\n" + p.name_en).upper() for p in Partner.objects.all()}
    taking_part = {}
    for row in Participation.objects.values("project_id", "partner_id"):
        taking_part.setdefault(row["project_id"], []).append(row["partner_id"])
    for project in Project.objects.all():
        texts = [
            project.code,
            project.title_zh,
            project.title_en,
            project.summary_zh,
            project.summary_en,
            partner_names[project.lead_unit_id],
        ]
        texts += [partner_names[pid] for pid in taking_part.get(project.pk, [])]
        if any(term in text.upper() for text in texts):
            ids.add(project.pk)
    return ids


def seed(count: int, partner_count: int = 30) -> None:
    """`count` projects whose titles and summaries are random Chinese text, with the
    WORDS sprinkled in rarely (as real words are), and partners named alike."""
    rng = random.Random(4)

    def filler(length: int) -> str:
        return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(length))

    def text(length: int) -> str:
        return filler(length) + (rng.choice(WORDS) if rng.random() < 0.2 else "") + filler(4)

    Partner.objects.bulk_create(
        Partner(
            name_zh=text(6) + f"集团{i}", name_en=f"Group {i}", kind="enterprise", country_id="CN"
        )
        for i in range(partner_count)
    )
    partners = list(Partner.objects.all())
    projects = []
    for i in range(count):
        projects.append(
            Project(
                code=f"S{i:06d}",
                title_zh=text(6) + "项目",
                title_en=f"Corridor project {i}",
                summary_zh=text(40),
                lead_unit=rng.choice(partners),
            )
        )
    Project.objects.bulk_create(projects, batch_size=1000)
    ids = list(Project.objects.values_list("pk", flat=True))
    Participation.objects.bulk_create(
        [
            Participation(project_id=pid, partner=rng.choice(partners), role="partner")
            for pid in ids
            if rng.random() < 0.5
        ],
        ignore_conflicts=True,
    )


@pytest.mark.parametrize("term", ["铁路", "新通道", "CORRIDOR project 1", "集团2", "冷", "s00001"])
def test_search_returns_the_rows_of_a_plain_substring_match(db, term):
    seed(200)
    expected = set()
    for word in term.split():
        found = plain_substring_ids(word)
        expected = found if not expected else expected & found
    got = set(search_projects(Project.objects.all(), term).values_list("pk", flat=True))
    assert got == expected
    assert got or term == "s00001"  # the examples do hit rows


def explain(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # What autovacuum does in production: move fresh rows out of the GIN pending
        # lists (which the planner costs as a scan) and gather statistics.
        cursor.execute(
            "SELECT gin_clean_pending_list('project_search_text_trigrams'::regclass), "
            "gin_clean_pending_list('project_search_text_characters'::regclass)"
        )
        cursor.execute(
            "ANALYZE projects_project; ANALYZE partners_partner; ANALYZE projects_participation"
        )
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("term", "index"),
    [
        ("跨境电商", "project_search_text_trigrams"),
        ("1999", "project_search_text_trigrams"),
        ("港口", "project_search_text_characters"),
        ("冷", "project_search_text_characters"),
    ],
)
def test_a_rare_terms_narrowing_is_served_by_an_index(db, on_postgres, term, index):
    seed(5000, partner_count=2000)
    narrowed = Project.objects.filter(search._narrowing(term)).order_by()
    plan = explain(narrowed)
    assert index in plan, plan
    assert "Seq Scan on projects_project" not in plan, plan
    assert set(narrowed.values_list("pk", flat=True)) >= plain_substring_ids(term)


# --- The search text kept by the database --------------------------------------------


def expected_search_text(project: Project) -> str:
    project.refresh_from_db()
    texts = [getattr(project, name) for name in search.PROJECT_FIELDS]
    texts += [project.lead_unit.name_zh, project.lead_unit.name_en]
    for partner in Partner.objects.filter(participations__project=project).order_by("pk"):
        texts += [partner.name_zh, partner.name_en]
    return "\n".join(texts).upper()


def test_the_search_text_follows_every_change(db, on_postgres):
    lead = factories.PartnerFactory(name_zh="北部湾港务", name_en="Beibu Gulf Port")
    other = factories.PartnerFactory(name_zh="老挝国家铁路", name_en="Lao National Railway")
    project = factories.ProjectFactory(lead_unit=lead, title_en="Cold chain hub")
    stored = Project.objects.values_list("search_text", flat=True)
    assert stored.get(pk=project.pk) == expected_search_text(project)
    assert "COLD CHAIN HUB" in stored.get(pk=project.pk)

    participation = Participation.objects.create(project=project, partner=other, role="partner")
    assert "LAO NATIONAL RAILWAY" in stored.get(pk=project.pk)
    Partner.objects.filter(pk=other.pk).update(name_en="Laos-China Railway Company")
    assert "LAOS-CHINA RAILWAY COMPANY" in stored.get(pk=project.pk)
    assert stored.get(pk=project.pk) == expected_search_text(project)
    participation.delete()
    assert "RAILWAY COMPANY" not in stored.get(pk=project.pk)

    Project.objects.filter(pk=project.pk).update(summary_en="Reefer trucks", lead_unit=other)
    assert stored.get(pk=project.pk) == expected_search_text(project)
    assert "REEFER TRUCKS" in stored.get(pk=project.pk)
    # A save() of an instance read before writes its stale search text back: recomputed.
    project.title_zh = "冷链枢纽"
    project.save()
    assert stored.get(pk=project.pk) == expected_search_text(project)
    assert "冷链枢纽" in stored.get(pk=project.pk)


def test_the_search_text_is_kept_by_the_database_only(db):
    """SQLite keeps none (the search reads the texts there); PostgreSQL fills it even on
    a write that names other columns only."""
    project = factories.ProjectFactory(title_en="Dry port")
    Project.objects.filter(pk=project.pk).update(title_en="Inland dry port")
    stored = Project.objects.values_list("search_text", flat=True).get(pk=project.pk)
    if connection.vendor == "postgresql":
        assert "INLAND DRY PORT" in stored
    else:
        assert stored == ""


# --- A list page and its count, by each plan --------------------------------------------


def seed_mixed(count: int) -> None:
    """Projects where 冷链 and "cold" are common (one in three), "Vientiane" rare (a
    partner leading two projects), and single letters and characters in every title."""
    rng = random.Random(11)
    hub = factories.PartnerFactory(name_zh="万象物流", name_en="Vientiane Logistics")
    partners = [factories.PartnerFactory() for _ in range(5)]
    Project.objects.bulk_create(
        Project(
            code=f"M{i:06d}",
            title_zh=("冷链" if i % 3 == 0 else "铁路") + f"中心{i}",
            title_en=("Cold chain" if i % 3 == 0 else "Rail") + f" hub {i}",
            summary_en="A corridor project" if i % 2 else "",
            lead_unit=hub if i in (7, 50) else rng.choice(partners),
            kind="project" if i % 4 else "activity",
        )
        for i in range(count)
    )
    Participation.objects.bulk_create(
        [
            Participation(project_id=pid, partner=rng.choice(partners), role="partner")
            for pid in Project.objects.values_list("pk", flat=True)
            if rng.random() < 0.3
        ],
        ignore_conflicts=True,
    )


def expected_codes(query_terms: str, **filters) -> list[str]:
    found = set(Project.objects.filter(**filters).values_list("pk", flat=True))
    for word in query_terms.split():
        found &= plain_substring_ids(word)
    return list(
        Project.objects.filter(pk__in=found)
        .order_by("-created_at", "-pk")
        .values_list("code", flat=True)
    )


def listed(client, query: str, page_size: int = 25) -> tuple[list[str], list[dict]]:
    codes, bodies, page = [], [], 1
    while True:
        response = client.get(f"/api/v1/projects/?{query}&page_size={page_size}&page={page}")
        assert response.status_code == 200, response.content
        body = response.json()
        bodies.append(body)
        codes += [row["code"] for row in body["results"]]
        if not body["next"]:
            return codes, bodies
        page += 1


QUERIES = [
    ("冷链", {}),
    ("cold", {}),
    ("a", {}),
    ("中", {}),
    ("Vientiane", {}),
    ("万象 hub", {}),
    ("冷链 cold chain", {}),
    ("xyz", {}),
    ("龙", {}),
    ("zq", {}),
    ("冷链 blockchain", {}),
    ("M00000", {}),
    ("cold", {"kind": "activity"}),
]


@pytest.mark.parametrize(
    "plan",
    ["whole probe", "probe and walk", "rare by index", "walk capped"],
)
def test_every_plan_lists_the_rows_of_a_plain_substring_match(
    api_client, manager, monkeypatch, plan
):
    """Each plan, forced in turn, pages through exactly the rows a Python substring test
    finds, newest first (on SQLite: the plain icontains search)."""
    seed_mixed(90)
    if plan == "probe and walk":
        monkeypatch.setattr(search, "PROBE_ROWS", 12)
        monkeypatch.setattr(search, "RARE_HITS", 1)
    elif plan == "rare by index":
        monkeypatch.setattr(search, "PROBE_ROWS", 12)
        monkeypatch.setattr(search, "RARE_HITS", 1000)
    elif plan == "walk capped":
        monkeypatch.setattr(search, "PROBE_ROWS", 12)
        monkeypatch.setattr(search, "RARE_HITS", 1)
        monkeypatch.setattr(search, "MAX_WALK", 15)
    client = api_client(manager)
    for words, filters in QUERIES:
        query = f"search={words}" + "".join(f"&{k}={v}" for k, v in filters.items())
        codes, bodies = listed(client, query)
        expected = expected_codes(words, **filters)
        assert codes == expected, (query, plan)
        first = bodies[0]
        assert (
            first["count"] >= len(expected)
            if first["count_is_estimate"]
            else (first["count"] == len(expected))
        ), (query, plan, first["count"])


def test_the_count_of_a_common_term_is_an_estimate_marked_as_one(
    on_postgres, api_client, manager, monkeypatch
):
    seed_mixed(90)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_project")  # the planner's size of the pool
    monkeypatch.setattr(search, "PROBE_ROWS", 30)
    client = api_client(manager)

    def first_page(query):
        body = client.get(f"/api/v1/projects/?{query}&page_size=5").json()
        return body["count"], body["count_is_estimate"], [row["code"] for row in body["results"]]

    # Common: a page among the newest 30, the count their share of the pool.
    count, estimate, codes = first_page("search=冷链")
    assert estimate and codes == expected_codes("冷链")[:5]
    assert 10 <= count <= 90
    # Rare, or matching nothing: counted exactly.
    assert first_page("search=Vientiane")[:2] == (2, False)
    assert first_page("search=blockchain") == (0, False, [])
    assert first_page("search=龙 冷链") == (0, False, [])
    # The whole filtered pool within the probe: exact, even for a common term.
    count, estimate, codes = first_page("search=cold&kind=activity")
    assert (count, estimate) == (len(expected_codes("cold", kind="activity")), False)
    # Without a search, the count is exact and says so.
    assert first_page("kind=activity")[1] is False


def test_the_count_is_never_an_estimate_on_sqlite(api_client, manager, monkeypatch):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's plain search")
    seed_mixed(40)
    monkeypatch.setattr(search, "PROBE_ROWS", 5)
    body = api_client(manager).get("/api/v1/projects/?search=冷链").json()
    assert (body["count"], body["count_is_estimate"]) == (len(expected_codes("冷链")), False)


def test_the_page_schema_documents_the_estimate(api_client, manager):
    schema = api_client(manager).get("/api/schema/?format=json").json()
    page = schema["components"]["schemas"]["PaginatedProjectList"]
    assert page["properties"]["count_is_estimate"]["type"] == "boolean"
    assert "count_is_estimate" in page["required"]


def test_a_rare_search_reads_a_bounded_number_of_statements(
    on_postgres, api_client, manager, monkeypatch
):
    """Probe, then the rare rows by index: no count(*) over the searched projects."""
    seed_mixed(60)
    monkeypatch.setattr(search, "PROBE_ROWS", 20)
    client = api_client(manager)
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/projects/?search=Vientiane").json()
    assert body["count"] == 2
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert not any("search_text" in sql for sql in counts), counts
