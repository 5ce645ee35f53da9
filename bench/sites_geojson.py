"""Time `/api/v1/sites.geojson` against the project list, in process, on PostgreSQL.

    DATABASE_URL=postgres://…/registry_sites_bench DJANGO_SETTINGS_MODULE=registry.settings \
        python bench/sites_geojson.py [--requests 30] [--every 1] [--varied 100] [--seed 19]

Run on a seeded pool (`bench/seed.py`). Projects without sites get one or two (every
`--every`-th project), in the first of their countries, by one INSERT … SELECT; then, for
a manager and for a partner user, each route is requested `--requests` times through
Django's test client (session login, no network) after a warm-up, and the median and p99
of the in-process time are printed with the number of features/rows returned.

Then the varied run: `--varied` distinct filter combinations (from the fixed `--seed`),
each of one to three of the filters a user combines on the map and the list
(country_group, sector, status, lead_unit, search, partner; values drawn from the pool by
`bench/varied.py`), each requested once as the project list and once as sites.geojson,
alternately, for the manager and for the partner user; p50 and p99 of each route, and of
the URLs naming each filter, are printed. The bounds keep a run short; the figures are
in-process times on a shared 2-core machine, to compare the routes measured in the same
run.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ.setdefault("API_RATE_USER", "1000000/minute")  # timing, not throttling
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    import django

    django.setup()

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Count
from django.test import Client

from partners.models import Membership
from projects.models import Participation, Project, Site

SEED_SITES = """
INSERT INTO projects_site (project_id, name_zh, name_en, latitude, longitude, country_id,
                           facility_type, admin_area, exactness, created_at, removed_at)
SELECT p.id, '站点' || p.id || '-' || n, 'Site ' || p.id || '-' || n,
       round((random() * 120 - 55)::numeric, 6), round((random() * 340 - 170)::numeric, 6),
       pc.country_id,
       (ARRAY['port','industrial_park','dry_port','rail_terminal','border_crossing',
              'distribution_centre','overseas_warehouse','school','hospital','office',
              'other'])[1 + (p.id + n) % 11],
       '', 'approximate', now(), NULL
FROM projects_project p
CROSS JOIN LATERAL (
    SELECT country_id FROM projects_projectcountry WHERE project_id = p.id
    ORDER BY country_id LIMIT 1
) pc
CROSS JOIN LATERAL generate_series(1, 1 + p.id % 2) AS n
WHERE p.id % %(every)s = 0
  -- NOT IN, hashed once: on an empty site table NOT EXISTS is planned as a sequential
  -- scan of the sites per project, rescanning the rows this statement inserts (hours).
  AND p.id NOT IN (SELECT project_id FROM projects_site)
"""


def seed_sites(every: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(SEED_SITES.replace("%(every)s", str(int(every))))
        added = cursor.rowcount
        cursor.execute("ANALYZE projects_site")
    return added


def users():
    User = get_user_model()
    manager, _ = User.objects.get_or_create(username="bench-sites-manager")
    manager.groups.add(Group.objects.get(name="manager"))
    partner_user, _ = User.objects.get_or_create(username="bench-sites-partner")
    partner_user.groups.add(Group.objects.get(name="partner"))
    # The partner taking part in the most projects: the heaviest partner view.
    busiest = (
        Participation.objects.values("partner_id")
        .order_by()
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    Membership.objects.get_or_create(user=partner_user, partner_id=busiest["partner_id"])
    return manager, partner_user, busiest["n"]


def time_route(client: Client, path: str, requests: int) -> dict:
    response = client.get(path)  # warm-up
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    body = response.json()
    size = len(body["features"]) if "features" in body else len(body.get("results", []))
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    return {
        "median_ms": round(statistics.median(times), 1),
        "p99_ms": round(p99, 1),
        "rows": size,
        "bytes": len(response.content),
    }


# The filters a user combines on the map and the list (the dashboard's and the list's).
VARIED_FILTERS = ("country_group", "sector", "status", "lead_unit", "search", "partner")


def varied_queries(count: int, seed: int) -> list[str]:
    """`count` distinct query strings, each naming one to three of `VARIED_FILTERS`, with
    values drawn from the pool (the same pool and seed give the same queries)."""
    from bench import varied

    reference = varied.load_reference()
    chinese, english = varied.vocabulary()
    rng = random.Random(f"{seed}:sites")
    found: dict[str, None] = {}
    for _ in range(count * 50):
        if len(found) >= count:
            break
        params = {}
        for name in rng.sample(VARIED_FILTERS, rng.choice([1, 1, 2, 2, 3])):
            if name == "search":
                params["search"] = varied.search_text(rng, chinese, english)
            else:
                params.update(varied.list_filter_values(name, rng, reference))
        found.setdefault(varied.query_string(params), None)
    return list(found)


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return round(statistics.median(ordered), 1), round(p99, 1)


def time_varied(client: Client, queries: list[str]) -> dict:
    """{route: [(query, ms, rows)]}: each query once as the list, once as the GeoJSON."""
    found = {"list": [], "geojson": []}
    for query in queries:
        for route, path in (
            ("list", f"/api/v1/projects/?{query}"),
            ("geojson", f"/api/v1/sites.geojson?{query}"),
        ):
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (path, response.status_code, response.content[:300])
            body = response.json()
            rows = len(body["features"]) if route == "geojson" else len(body["results"])
            found[route].append((query, elapsed, rows))
    return found


def report_varied(who: str, found: dict) -> None:
    for route, label in (("list", "project list"), ("geojson", "sites.geojson")):
        times = [ms for _, ms, _ in found[route]]
        p50, p99 = percentiles(times)
        print(
            f"{who:8} varied {label:14} {len(times):4} URLs  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms"
        )
    for name in VARIED_FILTERS:
        for route in ("list", "geojson"):
            times = [ms for query, ms, _ in found[route] if f"{name}=" in query]
            if times:
                p50, p99 = percentiles(times)
                print(
                    f"{who:8}   with {name:14} {route:8} {len(times):4} URLs  "
                    f"p50 {p50:7.1f} ms  p99 {p99:7.1f} ms"
                )
    slowest = sorted(found["geojson"], key=lambda row: -row[1])[:5]
    for query, ms, rows in slowest:
        print(f"{who:8}   slowest geojson {ms:7.1f} ms {rows:5} features  ?{query}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--every", type=int, default=1, help="seed sites on every N-th project")
    parser.add_argument("--varied", type=int, default=100, help="distinct filtered URLs (0: none)")
    parser.add_argument("--seed", type=int, default=19, help="seed of the varied URLs")
    parser.add_argument("--out", type=Path, help="write every timing to this JSON file")
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        print("PostgreSQL only (set DATABASE_URL).")
        return 2
    started = time.perf_counter()
    added = seed_sites(args.every)
    print(
        f"pool: {Project.objects.count():,} projects, {Site.objects.count():,} sites "
        f"({added:,} added in {time.perf_counter() - started:.1f} s)"
    )
    manager, partner_user, partner_projects = users()
    print(f"partner user: member of the institution in the most projects ({partner_projects:,})")
    routes = (
        ("project list (page of 25)", "/api/v1/projects/"),
        ("sites.geojson (capped)", "/api/v1/sites.geojson"),
        ("sites.geojson?country=KZ", "/api/v1/sites.geojson?country=KZ"),
        ("sites.geojson?status=in_progress&sector=logistics",
         "/api/v1/sites.geojson?status=in_progress&sector=logistics"),
    )  # fmt: skip
    recorded = {"fixed": [], "varied": {}}
    for who, user in (("manager", manager), ("partner", partner_user)):
        client = Client(HTTP_ACCEPT="application/json", HTTP_HOST="127.0.0.1")
        client.force_login(user)
        for name, path in routes:
            result = time_route(client, path, args.requests)
            recorded["fixed"].append({"user": who, "route": name, **result})
            print(
                f"{who:8} {name:52} median {result['median_ms']:7.1f} ms  "
                f"p99 {result['p99_ms']:7.1f} ms  {result['rows']:5} rows  "
                f"{result['bytes'] / 1024:8.1f} KiB"
            )
    if args.varied:
        queries = varied_queries(args.varied, args.seed)
        for who, user in (("manager", manager), ("partner", partner_user)):
            client = Client(HTTP_ACCEPT="application/json", HTTP_HOST="127.0.0.1")
            client.force_login(user)
            found = time_varied(client, queries)
            report_varied(who, found)
            recorded["varied"][who] = found
    if args.out:
        args.out.write_text(json.dumps(recorded, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
