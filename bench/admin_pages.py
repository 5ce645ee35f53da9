"""Server time of the admin pages people use every day, on a seeded pool (PostgreSQL): the
project changelist without filters and with filters, a project's page, the dashboard and
the screening queue, each over varied URLs, in process through Django's test client as a
logged-in manager (middleware, templates and every query included; no network, no
browser). Reports p50/p99 and the queries per request of each page.

    DATABASE_URL=postgres://…/registry_bench_copy python bench/admin_pages.py \
        --urls 60 --label after --out bench/results/admin-pages-100k-after.json

Run it on a copy of the bench pool: it adds a manager (`bench-admin-manager`), three
reviewers and, with `--seed-reviews N`, two reviews each to N projects in screening (so
the queue and the decision panel have scores to show). `--check-counts` prints every
COUNT the changelist runs and the EXPLAIN of the paginator's, to see that none reads the
whole table.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    import django

    django.setup()

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from partners.models import Partner
from projects.models import Participation, Project, Review, Status
from registry.models import CountryGroup, Sector

CHANGELIST = "/admin/projects/project/"
STATUSES = [s.value for s in Status]
RISKS = ["low", "medium", "high"]


def user(username: str, role: str):
    person, _created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True}
    )
    person.groups.add(Group.objects.get(name=role))
    return person


def seed_reviews(count: int, rng: random.Random) -> int:
    """Two reviews each for `count` projects in screening that have none (bench only:
    written directly, like the seed)."""
    reviewers = [user(f"bench-reviewer-{n}", "reviewer") for n in (1, 2, 3)]
    ids = list(
        Project.objects.filter(status=Status.SCREENING, reviews__isnull=True)
        .order_by("pk")
        .values_list("pk", "screening_round")[:count]
    )
    extra = {}
    if hasattr(Review, "ConflictDeclaration"):
        extra = {"conflict_declaration": "none"}
    rows = []
    for pk, screening_round in ids:
        for reviewer in rng.sample(reviewers, 2):
            scores = {name: rng.randint(1, 5) for name in Review.CRITERIA}
            rows.append(
                Review(
                    project_id=pk,
                    reviewer=reviewer,
                    round=max(screening_round, 1),
                    recommendation=rng.choice(["select", "not_select", "revise"]),
                    weighted_score=Decimal(sum(scores.values()) / 6).quantize(Decimal("0.01")),
                    comment="bench",
                    **scores,
                    **extra,
                )
            )
    Review.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def reference(rng: random.Random) -> dict:
    leading = list(
        Project.objects.order_by().values_list("lead_unit_id", flat=True).distinct()[:2000]
    )
    taking_part = list(
        Participation.objects.order_by("?").values_list("partner_id", flat=True)[:500]
    )
    projects = list(Project.objects.order_by("?").values_list("pk", flat=True)[:500])
    return {
        "lead_units": leading,
        "partners": taking_part or list(Partner.objects.values_list("pk", flat=True)[:500]),
        "projects": projects,
        "sectors": list(Sector.objects.values_list("code", flat=True)),
        "groups": list(CountryGroup.objects.values_list("code", flat=True)),
    }


def day(rng: random.Random, start_year=2021, span_days=365 * 5) -> str:
    return (date(start_year, 1, 1) + timedelta(days=rng.randrange(span_days))).isoformat()


def filtered_params(rng: random.Random, ref: dict) -> dict:
    """One to three of the changelist's filters, chosen at random."""
    makers = {
        "lead_unit": lambda: {"lead_unit": rng.choice(ref["lead_units"])},
        "partner": lambda: {"partner": rng.choice(ref["partners"])},
        "status": lambda: {"status__exact": rng.choice(STATUSES)},
        "sector": lambda: {"sector": rng.choice(ref["sectors"])},
        "country_group": lambda: {"country_group": rng.choice(ref["groups"])},
        "value": lambda: {
            "estimated_value__gte": rng.choice([0, 100000, 1000000]),
            "estimated_value__lte": rng.choice([5000000, 50000000, 500000000]),
        },
        "dates": lambda: {"planned_start__gte": day(rng), "planned_start__lte": day(rng, 2026)},
        "risk": lambda: {"risk_level__exact": rng.choice(RISKS)},
    }
    params = {}
    for name in rng.sample(sorted(makers), rng.randint(1, 3)):
        params.update(makers[name]())
    return params


def urls(rng: random.Random, ref: dict, count: int) -> dict[str, list[tuple[str, dict]]]:
    orderings = ["", "1", "-1", "2", "4", "-8"]
    unfiltered = []
    for _ in range(count):
        params = {"p": rng.randint(0, 40), "o": rng.choice(orderings)}
        unfiltered.append((CHANGELIST, {k: v for k, v in params.items() if v}))
    unfiltered[0] = (CHANGELIST, {})
    filtered = [(CHANGELIST, filtered_params(rng, ref)) for _ in range(count)]
    # Each filter alone at least once, so each shows in the table of results.
    singles = [
        "lead_unit",
        "partner",
        "status",
        "sector",
        "country_group",
        "value",
        "dates",
        "risk",
    ]
    for index, name in enumerate(singles):
        filtered[index] = (CHANGELIST, single_filter(name, rng, ref))
    pages = [
        (f"/admin/projects/project/{pk}/change/", {})
        for pk in rng.sample(ref["projects"], min(count, len(ref["projects"])))
    ]
    dashboard = []
    for _ in range(count):
        params = {}
        pick = rng.random()
        if pick < 0.25:
            params["country_group"] = rng.choice(ref["groups"])
        elif pick < 0.5:
            params["sector"] = rng.choice(ref["sectors"])
        elif pick < 0.75:
            params["lead_unit"] = rng.choice(ref["lead_units"])
        if rng.random() < 0.4:
            params["period_start"] = day(rng, 2024, 365)
        dashboard.append(("/admin/dashboard/", params))
    queue = [("/admin/projects/project/screening-queue/", {}) for _ in range(count)]
    return {
        "changelist": unfiltered,
        "changelist_filtered": filtered,
        "project_page": pages,
        "dashboard": dashboard,
        "screening_queue": queue,
    }


def single_filter(name: str, rng: random.Random, ref: dict) -> dict:
    while True:
        params = filtered_params(rng, ref)
        keys = {k.split("__")[0] for k in params}
        wanted = {
            "value": {"estimated_value"},
            "dates": {"planned_start"},
            "risk": {"risk_level"},
            "status": {"status"},
        }.get(name, {name})
        if keys == wanted:
            return params


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(client: Client, page_urls: list[tuple[str, dict]]) -> dict:
    times, queries, statuses = [], [], {}
    for url, params in page_urls:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, params)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            elapsed = (time.perf_counter() - started) * 1000
        times.append(elapsed)
        queries.append(len(captured.captured_queries))
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    return {
        "requests": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p99_ms": round(percentile(times, 0.99), 1),
        "max_ms": round(max(times), 1),
        "queries_median": statistics.median(queries),
        "queries_max": max(queries),
        "statuses": statuses,
    }


def check_counts(client: Client, ref: dict, rng: random.Random) -> None:
    """Every COUNT the changelist runs, with and without filters, and the paginator's plan."""
    for params in ({}, single_filter("lead_unit", rng, ref), single_filter("status", rng, ref)):
        with CaptureQueriesContext(connection) as captured:
            client.get(CHANGELIST, params)
        print(f"changelist {params}: {len(captured.captured_queries)} queries")
        for query in captured.captured_queries:
            sql = query["sql"]
            if "COUNT(" in sql.upper():
                print(f"  {query['time']} s  {sql[:400]}")
        for query in captured.captured_queries:
            if 'FROM "partners_partner"' in query["sql"] and "JOIN" not in query["sql"]:
                print(f"  partner query: {query['sql'][:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=60, help="URLs per page (default 60)")
    parser.add_argument("--seed-reviews", type=int, default=0)
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--pages", default="", help="comma-separated subset of the pages")
    parser.add_argument("--check-counts", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only (set DATABASE_URL to a copy of the bench pool).")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # DEBUG off: the pages name their static files through the manifest, as after a
    # deployment's collectstatic (into STATIC_ROOT, which git ignores).
    call_command("collectstatic", interactive=False, verbosity=0)
    rng = random.Random(14)
    if args.seed_reviews:
        print(f"reviews added: {seed_reviews(args.seed_reviews, rng)}")
    manager = user("bench-admin-manager", "manager")
    client = Client()
    client.force_login(manager)
    ref = reference(rng)
    pages = urls(random.Random(16), ref, args.urls)
    if args.check_counts:
        check_counts(client, ref, rng)
        return
    wanted = [name for name in args.pages.split(",") if name] or list(pages)
    # One request of each page first: imports, template compilation, the first connection.
    for name in wanted:
        client.get(*pages[name][0])
    results = {}
    for name in wanted:
        results[name] = measure(client, pages[name])
        print(f"{args.label} {name}: {json.dumps(results[name])}", flush=True)
    if args.out:
        args.out.write_text(
            json.dumps(
                {
                    "label": args.label,
                    "projects": Project.objects.count(),
                    "urls_per_page": args.urls,
                    "results": results,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
