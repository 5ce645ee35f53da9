"""services.projects_create_many, the bulk entry point the import writes through: the
rules of project_create for each project, its errors in input order, and the same
history as one project_create per project."""

from decimal import Decimal

from projects import services
from projects.errors import InvalidData, NotAllowed
from projects.models import Participation, Project, ProjectCountry
from registry.models import Sector


def history_of(project):
    return [
        (
            record.history_type,
            record.history_user_id,
            record.history_change_reason or None,
            sorted(t.tag.name for t in record.tags.all()),
        )
        for record in project.history.order_by("history_id")
    ]


def test_bulk_leaves_the_data_and_history_of_project_create(officer, lead_unit, foreign_partner):
    rail = Sector.objects.get(code="logistics-rail").pk
    links = {
        "countries": [
            services.CountryShare("LA", Decimal(60)),
            services.CountryShare("TH", Decimal(40)),
        ],
        "sectors": [services.SectorShare(rail, None)],
        "participations": [services.PartnerRole(foreign_partner.pk, "partner")],
        "tags": ["冷链", "陆海新通道"],
    }
    one = services.project_create(
        actor=officer, data={"title_zh": "单个", "lead_unit": lead_unit}, **links
    )
    [many] = services.projects_create_many(
        actor=officer,
        projects=[services.NewProject(data={"title_zh": "批量", "lead_unit": lead_unit}, **links)],
    )

    assert isinstance(many, Project) and many.pk and many.code.startswith("P")
    assert many.code != one.code and many.status == "draft" and many.created_by == officer
    assert (
        history_of(many)
        == history_of(one)
        == [
            ("+", officer.pk, None, []),
            ("~", officer.pk, None, ["冷链", "陆海新通道"]),
        ]
    )
    for model in (ProjectCountry, Participation):
        rows = model.objects.filter(project=many)
        assert rows.count() == model.objects.filter(project=one).count() > 0
        assert {row.history.get().history_user_id for row in rows} == {officer.pk}


def test_each_rule_refuses_its_project_in_input_order(officer, lead_unit, other_unit):
    before = Project.objects.count()
    outcomes = services.projects_create_many(
        actor=officer,
        projects=[
            services.NewProject(data={"title_zh": "好", "lead_unit": lead_unit}),
            services.NewProject(data={"title_zh": "别人的", "lead_unit": other_unit}),
            services.NewProject(
                data={"title_zh": "金额", "lead_unit": lead_unit, "estimated_value": Decimal(5)}
            ),
            services.NewProject(
                data={"title_zh": "比例", "lead_unit": lead_unit},
                countries=[services.CountryShare("LA", Decimal(60))],
            ),
            services.NewProject(data={"title_zh": "状态", "lead_unit": lead_unit, "status": "x"}),
        ],
    )

    assert isinstance(outcomes[0], Project) and outcomes[0].pk
    assert isinstance(outcomes[1], NotAllowed)
    assert isinstance(outcomes[2], InvalidData) and "currency" in outcomes[2].errors
    assert isinstance(outcomes[3], InvalidData) and "countries" in outcomes[3].errors
    assert isinstance(outcomes[4], InvalidData) and "status" in outcomes[4].errors
    assert Project.objects.count() == before + 1


def test_statements_do_not_grow_with_the_number_of_projects(officer, lead_unit, foreign_partner):
    """Projects, links, tags and all their history are written in one statement per table
    for the batch: 50 projects cost what 10 do."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rail = Sector.objects.get(code="logistics-rail").pk

    def batch(size, first):
        return [
            services.NewProject(
                data={"title_zh": f"批量{first + n}", "lead_unit": lead_unit},
                countries=[
                    services.CountryShare("LA", Decimal(60)),
                    services.CountryShare("TH", Decimal(40)),
                ],
                sectors=[services.SectorShare(rail, None)],
                participations=[services.PartnerRole(foreign_partner.pk, "partner")],
                # Tags old and new, several per project.
                tags=["冷链", f"标签{(first + n) % 7}", f"新{first + n}"],
            )
            for n in range(size)
        ]

    # The actor's roles and units are read once and kept on the user: out of the count.
    services.projects_create_many(actor=officer, projects=batch(1, 1000))
    counts = {}
    for size, first in ((10, 0), (50, 100)):
        with CaptureQueriesContext(connection) as queries:
            created = services.projects_create_many(actor=officer, projects=batch(size, first))
        assert all(isinstance(project, Project) for project in created)
        counts[size] = len(queries)
    assert counts[50] == counts[10], counts
    # And each project's tags and their history are there, as `project_create` leaves them.
    project = Project.objects.get(title_zh="批量120")
    assert sorted(project.tags.values_list("name", flat=True)) == ["冷链", "新120", "标签1"]
    assert history_of(project)[-1] == ("~", officer.pk, None, ["冷链", "新120", "标签1"])


def test_a_tag_no_longer_in_use_refuses_its_project_only(officer, lead_unit):
    from projects.models import Tag

    Tag.objects.create(name="旧标签", is_active=False)
    outcomes = services.projects_create_many(
        actor=officer,
        projects=[
            services.NewProject(data={"title_zh": "旧", "lead_unit": lead_unit}, tags=["旧标签"]),
            services.NewProject(data={"title_zh": "新", "lead_unit": lead_unit}, tags=["新标签"]),
        ],
    )
    assert isinstance(outcomes[0], InvalidData) and "tags" in outcomes[0].errors
    assert isinstance(outcomes[1], Project)
    assert list(outcomes[1].tags.values_list("name", flat=True)) == ["新标签"]
