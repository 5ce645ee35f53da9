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
        (record.history_type, record.history_user_id, sorted(t.tag.name for t in record.tags.all()))
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
            ("+", officer.pk, []),
            ("~", officer.pk, ["冷链", "陆海新通道"]),
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
