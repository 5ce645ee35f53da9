"""Search over projects: same rows as a plain substring match, and index use on
PostgreSQL for 2- and 4-character Chinese queries."""

import random

import pytest
from django.db import connection

from partners.models import Partner
from projects.api.search import search_projects
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
