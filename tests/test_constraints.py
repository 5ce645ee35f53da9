"""Rules the database itself enforces, whatever the code above it does: rows written with
`.objects.create`, bypassing forms and services, are refused."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from projects.models import Project, ProjectCountry, ProjectSector
from registry.models import Sector
from tests import factories


def test_country_share_over_100_is_refused_by_the_database(project):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectCountry.objects.create(project=project, country_id="TH", share=Decimal("120"))
    assert not project.project_countries.filter(country_id="TH").exists()


def test_negative_sector_share_is_refused_by_the_database(project):
    sector = Sector.objects.get(code="trade")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectSector.objects.create(project=project, sector=sector, share=Decimal("-1"))


def test_duplicate_project_country_is_refused_by_the_database(project):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectCountry.objects.create(project=project, country_id="LA", share=None)
    assert project.project_countries.filter(country_id="LA").count() == 1


@pytest.mark.parametrize(
    ("start", "end"),
    [("planned_start", "planned_end"), ("actual_start", "actual_end")],
)
def test_end_before_start_is_refused_by_the_database(lead_unit, start, end):
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.create(
            title_zh="日期颠倒",
            lead_unit=lead_unit,
            **{start: date(2026, 5, 1), end: date(2026, 4, 30)},
        )
    same_day = Project.objects.create(
        title_zh="当天", lead_unit=lead_unit, **{start: date(2026, 5, 1), end: date(2026, 5, 1)}
    )
    assert same_day.pk


def test_value_without_currency_is_refused_by_the_database(lead_unit):
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.create(
            title_zh="无币种", lead_unit=lead_unit, estimated_value=Decimal(1), currency=""
        )


def test_project_code_is_unique_in_the_database(project, lead_unit):
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.create(code=project.code, title_zh="重号", lead_unit=lead_unit)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_get_distinct_codes(on_postgres):
    """Two transactions, each on its own connection, create a project at the same moment;
    the locked code sequence hands each a different code and both commit."""
    lead_unit = factories.PartnerFactory(country_id="CN")
    # Both threads start from an existing sequence row, so they race on its lock.
    factories.ProjectFactory(lead_unit=lead_unit)
    workers = 2
    barrier = threading.Barrier(workers)
    codes, errors = [], []

    def create(index):
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                project = Project.objects.create(
                    title_zh=f"并发项目{index}", lead_unit_id=lead_unit.pk
                )
                codes.append(project.code)
        except Exception as error:  # reported below: the assertion names it
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(codes) == workers and len(set(codes)) == workers
    stored = set(
        Project.objects.filter(title_zh__startswith="并发项目").values_list("code", flat=True)
    )
    assert stored == set(codes)
