"""Time `/api/v1/sites.geojson` against the project list, in process, on PostgreSQL.

    DATABASE_URL=postgres://…/registry_sites_bench DJANGO_SETTINGS_MODULE=registry.settings \
        python bench/sites_geojson.py [--requests 30] [--every 1]

Run on a seeded pool (`bench/seed.py`). Projects without sites get one or two (every
`--every`-th project), in the first of their countries, by one INSERT … SELECT; then, for
a manager and for a partner user, each route is requested `--requests` times through
Django's test client (session login, no network) after a warm-up, and the median and p99
of the in-process time are printed with the number of features/rows returned. The
`--requests` bound keeps a run short; the figures are in-process times on a shared
2-core machine, to compare the two routes measured in the same run.
"""

import argparse
import os
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
  AND NOT EXISTS (SELECT 1 FROM projects_site s WHERE s.project_id = p.id)
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--every", type=int, default=1, help="seed sites on every N-th project")
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
    for who, user in (("manager", manager), ("partner", partner_user)):
        client = Client(HTTP_ACCEPT="application/json", HTTP_HOST="127.0.0.1")
        client.force_login(user)
        for name, path in routes:
            result = time_route(client, path, args.requests)
            print(
                f"{who:8} {name:52} median {result['median_ms']:7.1f} ms  "
                f"p99 {result['p99_ms']:7.1f} ms  {result['rows']:5} rows  "
                f"{result['bytes'] / 1024:8.1f} KiB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
