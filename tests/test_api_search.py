"""Search over projects: same rows as a plain substring match, and index use on
PostgreSQL for 2- and 4-character Chinese queries."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners.models import Partner
from projects.api import search
from projects.api.search import search_projects, should_walk, walk_condition
from projects.models import Participation, Project

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
            "SELECT gin_clean_pending_list('project_search_bigrams'::regclass), "
            "gin_clean_pending_list('partner_search_bigrams'::regclass)"
        )
        cursor.execute(
            "ANALYZE projects_project; ANALYZE partners_partner; ANALYZE projects_participation"
        )
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("term", ["港口", "跨境电商"])
def test_chinese_search_uses_the_bigram_indexes_on_postgresql(db, on_postgres, term):
    seed(5000, partner_count=2000)
    queryset = search_projects(Project.objects.all(), term)
    plan = explain(queryset)
    assert "project_search_bigrams" in plan, plan
    assert "partner_search_bigrams" in plan, plan
    assert "Seq Scan on projects_project" not in plan, plan
    assert set(queryset.values_list("pk", flat=True)) == plain_substring_ids(term)


# --- A page of a common term read off the newest-first index -------------------------


@pytest.mark.parametrize("term", ["铁路", "集团2", "冷", "CORRIDOR project 1"])
def test_walk_condition_matches_the_same_rows(db, term):
    seed(200)
    walked = set(Project.objects.filter(walk_condition(term)).values_list("pk", flat=True))
    expected = set.intersection(*(plain_substring_ids(word) for word in term.split()))
    assert walked == expected and walked


def test_the_walk_is_chosen_only_when_it_is_short(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "postgresql")
    pool = 100_000
    # One project in six matches: the first page is found after ~300 rows.
    assert should_walk(offset=0, page_size=50, matches=17_000, pool=lambda: pool)
    # A deep page of the same term, or a rare term: the UNION's sort is cheaper.
    assert not should_walk(offset=5_000, page_size=50, matches=17_000, pool=lambda: pool)
    assert not should_walk(offset=0, page_size=50, matches=300, pool=lambda: pool)
    assert not should_walk(offset=0, page_size=50, matches=0, pool=lambda: pool)
    # Without statistics (a table never analysed) there is nothing to choose by.
    assert not should_walk(offset=0, page_size=50, matches=17_000, pool=lambda: 0)


def seed_common_term(count: int) -> None:
    """A term (冷链) in one project title of four and in the names of some partners, so
    that it is common enough for the list to walk."""
    rng = random.Random(9)
    Partner.objects.bulk_create(
        Partner(
            name_zh=("北部湾冷链集团" if i % 3 == 0 else "陆海物流公司") + str(i),
            name_en=f"Partner {i}",
            kind="enterprise",
            country_id="CN",
        )
        for i in range(12)
    )
    partners = list(Partner.objects.all())
    Project.objects.bulk_create(
        Project(
            code=f"W{i:06d}",
            title_zh=("冷链" if i % 4 == 0 else "铁路") + f"项目{i}",
            kind="project" if i % 3 else "activity",
            lead_unit=rng.choice(partners),
        )
        for i in range(count)
    )
    Participation.objects.bulk_create(
        [
            Participation(project_id=pid, partner=rng.choice(partners), role="partner")
            for pid in Project.objects.values_list("pk", flat=True)
            if rng.random() < 0.5
        ],
        ignore_conflicts=True,
    )


def test_walked_pages_equal_the_union_pages(on_postgres, api_client, manager, monkeypatch):
    """The list reads a common term's pages by walking, and they are the very pages the
    index-served UNION gives, page after page, also with other filters."""
    seed_common_term(240)
    client = api_client(manager)

    def pages(query: str) -> tuple[list[list[str]], list[str]]:
        codes, statements, page = [], [], 1
        while True:
            with CaptureQueriesContext(connection) as queries:
                body = client.get(f"/api/v1/projects/?{query}&page_size=20&page={page}").json()
            statements += [q["sql"] for q in queries.captured_queries]
            codes.append([row["code"] for row in body["results"]])
            if not body["next"]:
                return codes, statements
            page += 1

    for query in ("search=冷链", "search=冷链 集团", "search=冷链&kind=project"):
        monkeypatch.setattr(
            search, "pool_estimate", lambda using="default": Project.objects.count()
        )
        walked, statements = pages(query)
        assert any("OFFSET 0" in sql for sql in statements), query  # the walk was used
        monkeypatch.setattr(search, "should_walk", lambda **kwargs: False)
        union, statements = pages(query)
        assert not any("OFFSET 0" in sql for sql in statements)
        assert walked == union and sum(map(len, walked)) > 20, query
        monkeypatch.undo()
