from decimal import Decimal

import pytest

from projects import services
from projects.errors import InvalidData, NotAllowed, StaleWrite
from projects.models import Project
from registry.models import Sector


def rail():
    return Sector.objects.get(code="logistics-rail").pk


def test_officer_creates_draft_with_generated_code(officer, lead_unit):
    project = services.project_create(
        actor=officer,
        data={"title_zh": "中老铁路冷链班列", "lead_unit": lead_unit},
        countries=[
            services.CountryShare("LA", Decimal(60)),
            services.CountryShare("TH", Decimal(40)),
        ],
        sectors=[services.SectorShare(rail(), None)],
    )
    assert project.code.startswith("P") and project.status == "draft"
    assert project.history.count() == 1
    assert project.history.get().history_user == officer
    assert sorted(project.project_countries.values_list("country_id", flat=True)) == ["LA", "TH"]


def test_shares_not_adding_up_are_refused_and_nothing_written(officer, lead_unit):
    before = Project.objects.count()
    with pytest.raises(InvalidData) as error:
        services.project_create(
            actor=officer,
            data={"title_zh": "x", "lead_unit": lead_unit},
            countries=[
                services.CountryShare("LA", Decimal(60)),
                services.CountryShare("TH", Decimal(30)),
            ],
        )
    assert "countries" in error.value.errors
    assert Project.objects.count() == before


def test_officer_of_other_unit_cannot_update(project, other_officer):
    with pytest.raises(NotAllowed):
        services.project_update(actor=other_officer, project=project, data={"title_zh": "改"})
    project.refresh_from_db()
    assert project.title_zh != "改"


def test_stale_version_is_refused(project, officer):
    services.project_update(
        actor=officer, project=project, data={"title_zh": "新"}, expected_version=1
    )
    with pytest.raises(StaleWrite):
        services.project_update(
            actor=officer, project=project, data={"title_zh": "旧"}, expected_version=1
        )
    project.refresh_from_db()
    assert (project.title_zh, project.version) == ("新", 2)


def test_unchanged_update_records_nothing(project, officer):
    count = project.history.count()
    _, changed = services.project_update(
        actor=officer, project=project, data={"title_zh": project.title_zh}
    )
    assert not changed
    assert project.history.count() == count


def test_tag_changes_are_in_history(project, officer):
    services.project_update(actor=officer, project=project, data={}, tags=["冷链", "RCEP"])
    latest = project.history.latest()
    assert sorted(t.tag.name for t in latest.tags.all()) == ["RCEP", "冷链"]
    assert latest.history_user == officer


@pytest.mark.parametrize("write", ["review", "support", "progress"])
def test_child_writes_refuse_a_stale_version(write, project, officer, manager, reviewer):
    from projects.models import ProgressUpdate, Review, SupportDecision

    stale = project.version + 1
    calls = {
        "review": lambda: services.review_record(
            project=project,
            reviewer=reviewer,
            scores={},
            recommendation="select",
            conflict_declaration="none",
            expected_version=stale,
        ),
        "support": lambda: services.support_decide(
            project=project, actor=manager, kind="policy", expected_version=stale
        ),
        "progress": lambda: services.progress_post(
            project=project, actor=officer, note="进展", expected_version=stale
        ),
    }
    with pytest.raises(StaleWrite):
        calls[write]()
    assert not Review.objects.exists()
    assert not SupportDecision.objects.exists()
    assert not ProgressUpdate.objects.exists()
