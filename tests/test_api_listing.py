"""List pages read as rows (`projects.selectors`) and rendered by `projects.api.listing`
are exactly what `ProjectSerializer` / `PartnerProjectSerializer` render: same keys in the
same order, same nested lists in the same order, same value formats, in either language."""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from projects import selectors
from projects.api.listing import ProjectListOutput
from projects.api.serializers import PartnerProjectSerializer, ProjectSerializer
from projects.models import Kind, Project, RiskLevel, Status, Tag
from tests import factories

API = "/api/v1"
SERIALIZERS = [ProjectSerializer, PartnerProjectSerializer]
LANGUAGES = ["en", "zh-hans"]


@pytest.fixture
def varied_projects(lead_unit, foreign_partner):
    """Projects covering every shape a list row takes."""
    thai = factories.PartnerFactory(country_id="TH", name_en="", kind="financial")
    full = factories.ProjectFactory(
        lead_unit=lead_unit,
        title_en="",
        summary_en="Summary",
        kind=Kind.ACTIVITY,
        estimated_value=Decimal("1234567.5"),
        currency="USD",
        planned_start=datetime.date(2025, 1, 31),
        planned_end=datetime.date(2026, 12, 1),
        actual_start=datetime.date(2025, 2, 1),
        risk_level=RiskLevel.HIGH,
        risk_notes="洪水季节",
        internal_notes="internal",
        support_requested="融资",
        next_review_due=datetime.date(2026, 3, 1),
        screening_round=2,
        countries=[("LA", "60"), ("TH", "33.33"), ("VN", "6.67")],
        # A sub-sector and a top-level sector.
        sectors=[("logistics-rail", "70"), ("trade", "30")],
        partners=[(foreign_partner, "partner"), (thai, "funding"), (lead_unit, "lead")],
    )
    full.tags.set([Tag.objects.create(name=name) for name in ("冷链", "RCEP", "b")])
    bare = factories.ProjectFactory(
        lead_unit=foreign_partner,
        title_zh="",
        summary_zh="",
        estimated_value=None,
        currency="",
        countries=[("KH", None), ("MM", None)],
        sectors=[("trade-ecommerce", None), ("agriculture", None)],
    )
    # Shares of none, zero and some, for the order of the nested lists.
    mixed = factories.ProjectFactory(
        lead_unit=lead_unit,
        estimated_value=Decimal("0"),
        countries=[("TH", None), ("LA", "0"), ("MY", "100")],
        sectors=[("industry", None), ("logistics-road", "0"), ("logistics", "100")],
        partners=[(thai, "partner"), (foreign_partner, "partner"), (thai, "supporting")],
    )
    mixed.tags.set(Tag.objects.filter(name="b"))
    # Times at each side of midnight in Asia/Shanghai, with and without microseconds.
    Project.objects.filter(pk=full.pk).update(
        status=Status.IN_PROGRESS,
        created_at=datetime.datetime(2025, 3, 1, 15, 59, 59, 123456, tzinfo=datetime.UTC),
    )
    Project.objects.filter(pk=bare.pk).update(
        status=Status.NOT_SELECTED,
        created_at=datetime.datetime(2025, 3, 1, 16, 0, tzinfo=datetime.UTC),
        updated_at=datetime.datetime(2025, 12, 31, 23, 59, 59, tzinfo=datetime.UTC),
    )
    return [full, bare, mixed]


def api_request(path=f"{API}/projects/"):
    return Request(APIRequestFactory().get(path))


# How a page is read: its nested lists in the page's statement (PostgreSQL) or one query
# each (`selectors.add_lists`), and its rows through `project_rows` (as the sync route
# does) or by id (as the list route does).
READS = [
    pytest.param(True, True, id="lists_in_page-by_id"),
    pytest.param(True, False, id="lists_in_page-values"),
    pytest.param(False, True, id="lists_apart-by_id"),
    pytest.param(False, False, id="lists_apart-values"),
]


@pytest.fixture
def lists_read(request, monkeypatch):
    """Reads the lists as the parameter asks: in the page's statement where the
    database can, or apart (as on SQLite, and here on PostgreSQL too)."""

    def read(lists_in_page: bool):
        if lists_in_page and not selectors.lists_in_page():
            pytest.skip("this database has no ordered JSON aggregate (PostgreSQL only)")
        if not lists_in_page:
            monkeypatch.setattr(selectors, "lists_in_page", lambda using="default": False)

    return read


def internal(serializer_class) -> bool:
    return serializer_class is ProjectSerializer


def page_rows(projects, by_id: bool, *, internal: bool = True) -> list[dict]:
    if by_id:
        ids = list(projects.values_list("pk", flat=True))
        return selectors.project_rows_by_id(ids, internal=internal)
    return selectors.add_lists(list(selectors.project_rows(projects, internal=internal)))


def both_renderings(serializer_class, context, projects=None, *, by_id=False):
    """The page of all projects (newest first) through the serializer and the listing."""
    projects = Project.objects.all() if projects is None else projects
    instances = projects.with_relations(tag_names=True)
    expected = serializer_class(instances, many=True, context=context).data
    output = ProjectListOutput(context, internal=internal(serializer_class))
    rendered = output.render(page_rows(projects, by_id, internal=internal(serializer_class)))
    return rendered, expected


def assert_same(rendered, expected):
    assert rendered == expected
    # Equal dicts may differ in key order; the JSON bytes may not.
    assert JSONRenderer().render(rendered) == JSONRenderer().render(expected)


@pytest.mark.parametrize(("lists_in_page", "by_id"), READS)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("serializer_class", SERIALIZERS)
def test_a_page_renders_as_the_serializer_renders_it(
    varied_projects, lists_read, serializer_class, language, lists_in_page, by_id
):
    lists_read(lists_in_page)
    with translation.override(language):
        rendered, expected = both_renderings(
            serializer_class, {"request": api_request()}, by_id=by_id
        )
    assert_same(rendered, expected)
    assert len(rendered) == 3
    assert ("risk_notes" in rendered[0]) is (serializer_class is ProjectSerializer)
    assert rendered[0]["url"] == f"http://testserver{API}/projects/{rendered[0]['code']}/"
    labels = {row["code"]: row["status_label"] for row in rendered}
    assert labels[varied_projects[0].code] == ("实施中" if language == "zh-hans" else "in progress")


def test_a_partner_row_does_not_read_the_internal_columns(varied_projects):
    rows = selectors.project_rows(Project.objects.all(), internal=False)
    assert "risk_notes" not in str(rows.query) and "internal_notes" not in str(rows.query)
    assert not {"risk_notes", "internal_notes"} & set(rows[0])


def test_the_page_keeps_the_order_it_is_given(varied_projects):
    projects = Project.objects.order_by("-code")
    rendered, expected = both_renderings(ProjectSerializer, {"request": api_request()}, projects)
    assert_same(rendered, expected)
    assert [row["code"] for row in rendered] == sorted(
        (p.code for p in varied_projects), reverse=True
    )


@pytest.mark.parametrize(("lists_in_page", "by_id"), READS)
def test_times_follow_the_current_time_zone(varied_projects, lists_read, lists_in_page, by_id):
    lists_read(lists_in_page)
    with timezone.override("America/New_York"):
        rendered, expected = both_renderings(
            ProjectSerializer, {"request": api_request()}, by_id=by_id
        )
    assert_same(rendered, expected)
    assert rendered[-1]["created_at"].endswith("-05:00")


@pytest.mark.parametrize(("lists_in_page", "by_id"), READS)
def test_decimals_follow_the_rest_framework_setting(
    varied_projects, lists_read, settings, lists_in_page, by_id
):
    lists_read(lists_in_page)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "COERCE_DECIMAL_TO_STRING": False}
    rendered, expected = both_renderings(ProjectSerializer, {"request": api_request()}, by_id=by_id)
    assert_same(rendered, expected)
    shares = {type(c["share"]) for row in rendered for c in row["countries"]}
    assert shares == {Decimal, type(None)}


def test_an_empty_page_reads_no_relations(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        page = selectors.add_lists(list(selectors.project_rows(Project.objects.all())))
        output = ProjectListOutput({"request": api_request()}, internal=True)
        assert output.render(page) == []


@pytest.mark.parametrize("lists_in_page", [True, False])
def test_rows_by_id_are_the_values_rows_in_the_order_asked(
    varied_projects, lists_read, lists_in_page, django_assert_num_queries
):
    lists_read(lists_in_page)
    full, bare, mixed = varied_projects
    ids = [bare.pk, mixed.pk, full.pk]
    lists = 0 if lists_in_page else len(selectors.PROJECT_LISTS)
    with django_assert_num_queries(1 + lists):
        rows = selectors.project_rows_by_id(ids)
    expected = {
        row["id"]: row
        for row in selectors.add_lists(list(selectors.project_rows(Project.objects.all())))
    }
    assert [row["id"] for row in rows] == ids
    # Same values and types (the fields' converters ran: datetimes, decimals on SQLite).
    assert rows == [expected[pk] for pk in ids]
    assert {type(row["created_at"]) for row in rows} == {datetime.datetime}
    shares = [c["share"] for row in rows for c in row[selectors.list_key("countries")]]
    assert Decimal("33.33") in shares and all(type(s) in {Decimal, type(None)} for s in shares)
    with django_assert_num_queries(0):
        assert selectors.project_rows_by_id([]) == []


def test_pages_of_nothing_are_counted_without_a_query(db, django_assert_num_queries):
    pages = selectors.ProjectPages(Project.objects.filter(pk__in=[]))
    with django_assert_num_queries(0):
        assert pages.count() == 0
        assert pages[0:50] == []


def in_order(text: bytes):
    """Parsed JSON whose objects compare key order too."""
    return json.loads(text, object_pairs_hook=list)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ["manager", "partner_user"])
def test_list_and_sync_responses_are_the_serializers(
    request, api_client, varied_projects, foreign_partner, role, language
):
    user = request.getfixturevalue(role)
    if role == "manager":
        serializer_class, visible = ProjectSerializer, Project.objects.all()
    else:
        serializer_class = PartnerProjectSerializer
        # Partners follow projects from submission on (drafts stay hidden).
        Project.objects.filter(status="draft").update(status="submitted")
        visible = (
            Project.objects.filter(participations__partner=foreign_partner)
            .exclude(status="draft")
            .distinct()
        )
    client = api_client(user, language=language)
    for path, projects in (
        (f"{API}/projects/?ordering=code", visible.order_by("code", "-pk")),
        (f"{API}/projects/sync/", visible.order_by("updated_at", "id")),
    ):
        response = client.get(path)
        assert response.status_code == 200
        with translation.override(language):
            expected = serializer_class(
                projects.with_relations(tag_names=True),
                many=True,
                context={"request": response.wsgi_request},
            ).data
        assert dict(in_order(response.content))["results"] == in_order(
            JSONRenderer().render(expected)
        )
        assert len(expected) == visible.count() > 1


def test_the_count_reads_the_projects_alone(api_client, manager, project):
    """The page query joins the lead unit; the count must not (PostgreSQL would join
    every matching project)."""
    with CaptureQueriesContext(connection) as queries:
        assert api_client(manager).get(f"{API}/projects/?status=draft").json()["count"] == 1
    (count,) = [query["sql"] for query in queries if "COUNT(" in query["sql"].upper()]
    assert "JOIN" not in count.upper()
