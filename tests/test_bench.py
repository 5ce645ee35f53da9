"""The benchmark's seed fills a consistent pool, and its baseline view serves it.

The seed writes with COPY on the test connection, so everything here runs inside the
test's transaction and is rolled back afterwards."""

from collections import Counter
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test import override_settings

from bench import report, varied
from bench.seed import SeedError, check_database, seed
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
from tests import factories


def test_seed_refuses_sqlite(db):
    if connection.vendor != "sqlite":
        pytest.skip("checks the refusal on SQLite")
    with pytest.raises(SeedError, match="needs PostgreSQL"):
        check_database(connection)
    with pytest.raises(SeedError):
        seed(10, 10, analyze=False)
    assert not Project.objects.exists()


@pytest.mark.django_db
def test_seed_fills_a_consistent_pool(on_postgres):
    result = seed(200, 60, analyze=False)

    assert result.projects == 200 and result.partners == 60
    assert Project.objects.count() == 200
    assert Partner.objects.filter(country_id="CN").exists()
    assert Partner.objects.exclude(country_id="CN").values("country").distinct().count() > 5

    codes = list(Project.objects.values_list("code", flat=True))
    assert len(set(codes)) == 200
    last = CodeSequence.objects.get(name="project").last_value
    assert sorted(codes) == [format_project_code(n) for n in range(last - 199, last + 1)]

    for model in (ProjectCountry, ProjectSector):
        totals = model.objects.values("project").annotate(total=Sum("share"), n=Count("id"))
        assert len(totals) == 200
        assert {row["total"] for row in totals} == {Decimal("100")}
    assert {r["n"] for r in ProjectCountry.objects.values("project").annotate(n=Count("id"))} <= {
        1,
        2,
        3,
    }
    per_project = Counter(Participation.objects.values_list("project_id", flat=True))
    assert len(per_project) == 200 and set(per_project.values()) <= {1, 2, 3, 4}
    lead_rows = Participation.objects.filter(role="lead")
    assert lead_rows.count() == 200
    assert all(p.partner_id == p.project.lead_unit_id for p in lead_rows.select_related("project"))

    # Every project has its creation record, plus one history row per status change.
    history = Project.history.model.objects
    assert history.filter(history_type="+").count() == 200
    assert history.filter(history_type="~").count() == StatusChange.objects.count()
    assert set(Project.objects.values_list("status", flat=True)) > {"draft", "in_progress"}

    projects = list(Project.objects.with_relations().order_by("code")[:20])
    assert all(p.title_zh and p.title_en and p.lead_unit.is_domestic for p in projects)
    assert all(p.project_countries.all() and p.participations.all() for p in projects)


@pytest.mark.django_db
def test_projects_created_after_the_seed_get_fresh_codes(on_postgres):
    first = seed(30, 40, analyze=False)
    created = factories.ProjectFactory(lead_unit=Partner.objects.filter(country_id="CN").first())
    assert created.code == format_project_code(int(first.last_code[1:]) + 1)

    # Topping up adds only what is missing; codes continue past the one just taken.
    second = seed(50, 40, analyze=False)
    assert second.projects == 19 and second.partners == 0
    assert second.first_code == format_project_code(int(created.code[1:]) + 1)

    # A reset empties the pool but never hands a code out twice.
    third = seed(10, 40, reset=True, analyze=False)
    assert Project.objects.count() == 10
    assert third.first_code > second.last_code


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="bench.urls")
def test_baseline_lists_the_seeded_pool_with_nested_relations(on_postgres, client, manager):
    seed(12, 30, analyze=False)
    client.force_login(manager)  # the baseline keeps the API's authentication, as measured
    response = client.get("/bench/baseline/projects/?page_size=5")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 12 and len(body["results"]) == 5
    row = body["results"][0]
    assert row["countries"][0]["country"]["iso2"] and row["participations"][0]["partner"]["id"]
    newest = Project.objects.order_by("-created_at", "-id").first()
    assert row["code"] == newest.code


def test_report_marks_unmeasured_targets_without_failing(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "RESULTS_DIR", tmp_path)  # no earlier runs to compare with
    results = {"calls": {"list": {"label": "list", "path": "/", "skipped": "answers 404"}}}
    assert all(met is None for _, _, met in report.targets(results))
    text = report.render(results)
    assert "not measured: answers 404" in text and "not measured" in text


@pytest.mark.django_db
def test_varied_paths_are_distinct_repeatable_and_answer(client, manager, foreign_partner):
    """`python -m bench --varied` asks many different things: from a fixed seed the same
    distinct paths, every list filter among them, search words of 1 to 3 words in both
    languages; and they are requests the app answers (a 404 only past a short list's
    end), never refused as bad input."""
    from projects.api.filters import ProjectFilter

    units = [factories.PartnerFactory(country_id="CN") for _ in range(3)]
    for n in range(12):
        factories.ProjectFactory(
            lead_unit=units[n % 3],
            countries=[(("LA", "TH", "KZ")[n % 3], 100)],
            sectors=[("logistics-rail", 100)],
            partners=[(foreign_partner, "partner")],
        )
    reference = varied.load_reference()
    first = varied.generate(reference, 30, seed=7)
    assert first == varied.generate(varied.load_reference(), 30, seed=7)
    assert first["paths"] != varied.generate(reference, 30, seed=8)["paths"]
    assert first["notes"] == []  # every filter of the list is one the harness knows

    paths = first["paths"]
    assert set(paths) == set(varied.CLASSES)
    # A pool of 12 projects has 12 details; its lists one page in many orders.
    wanted = {"detail": 12}
    for name, found in paths.items():
        assert len(found) == len(set(found)) == wanted.get(name, 30), name
    filters_used = {key for path in paths["filtered"] for key in parse_qs(urlsplit(path).query)}
    assert ProjectFilter.parameter_names() - {"search"} <= filters_used
    words = [parse_qs(urlsplit(path).query)["search"][0] for path in paths["search"]]
    assert {1, 2, 3} <= {len(text.split()) for text in words}  # terms may hold spaces
    assert any(text.isascii() for text in words) and not all(text.isascii() for text in words)
    assert {urlsplit(p).path for p in paths["stats"]} == {
        f"/api/v1/stats/{name}/" for name in ("summary", "balance", "flow")
    }

    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    for name, found in paths.items():
        # Every filtered path (the combinations are the point), a few of the others.
        for path in found if name == "filtered" else found[:4]:
            status = client.get(path, HTTP_ACCEPT="application/json").status_code
            beyond_the_end = "page=2" in path or "page=3" in path or "p=2" in path
            assert status == 200 or (status == 404 and beyond_the_end), (path, status)


def test_varied_report_names_dropped_paths_and_the_write_ratio(tmp_path, monkeypatch):
    run = {"n": 10, "p50": 5.0, "p90": 8.0, "p99": 10.0, "max": 12.0, "statuses": {"200": 10}}
    results = {
        "date": "2026-12-01T18:00:00+00:00",
        "machine": {"git": "abc1234", "loadavg": ["1.0", "1.0", "1.0"]},
        "pool": {"projects": 100_412},
        "settings": {
            "seed": 14,
            "paths_per_class": 300,
            "duration_s": 60,
            "gunicorn_workers": 2,
            "gunicorn_timeout": 30,
        },
        "classes": {
            "search": {
                "label": "search (any words)",
                "target_p99_ms": 150,
                "answered_200": 297,
                "dropped": {"0": 3},
            }
        },
        "runs": [
            {"cache": "off", "mode": "quiet", "classes": {"search": run}},
            {"cache": "off", "mode": "write", "classes": {"search": {**run, "p99": 13.0}}},
        ],
    }
    text = varied.render(results)
    assert "### 100,412 projects" in text and "3 of no answer" in text
    assert "**13.0** (1.30×" in text  # noqa: RUF001
    monkeypatch.setattr(varied, "RESULTS_DIR", tmp_path)
    assert varied.save(results).name == "varied-100000.json"
