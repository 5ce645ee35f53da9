"""Benchmark: import 10,000 projects from one file, with commit, and report time and
peak memory. Target on the reference machine with PostgreSQL: under 30 s, under 300 MB.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry_bench \\
        .venv/bin/python bench/import_projects.py [--rows 10000] [--format csv|xlsx]

Writes into the database it is given (migrates it and loads reference data first): use
a scratch database, never production.
"""

import argparse
import csv
import io
import os
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")

import django

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from partners.models import Membership, Partner  # noqa: E402
from projects.importing.projects import import_projects  # noqa: E402
from projects.importing.template import PROJECT_COLUMNS  # noqa: E402
from projects.models import Project  # noqa: E402
from registry.importing.formats import read_table  # noqa: E402
from registry.models import Sector  # noqa: E402

COUNTRIES = ["LA", "TH", "VN", "KH", "MM", "MY", "SG", "ID", "PH", "IN", "PK", "KZ"]


def setup_actor():
    call_command("migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    unit, _ = Partner.objects.get_or_create(
        name_zh="基准测试牵头单位", country_id="CN", defaults={"kind": "government"}
    )
    partners = []
    for n, iso2 in enumerate(COUNTRIES):
        partner, _ = Partner.objects.get_or_create(
            name_zh=f"基准测试伙伴{n}", country_id=iso2, defaults={"kind": "chamber"}
        )
        partners.append(partner)
    user, _ = User.objects.get_or_create(username="bench-officer", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="officer"))
    Membership.objects.get_or_create(user=user, partner=unit)
    return user, unit, partners


def make_rows(count: int, unit, partners) -> list[list[str]]:
    rng = random.Random(7)
    sectors = list(Sector.objects.exclude(parent=None).values_list("code", flat=True))
    rows = []
    for n in range(count):
        first, second = rng.sample(COUNTRIES, 2)
        values = {
            "title_zh": f"基准项目{n:05d}",
            "title_en": f"Benchmark project {n:05d}",
            "kind": rng.choice(["project", "activity"]),
            "lead_unit": unit.name_zh,
            "countries": f"{first}:60; {second}:40",
            "sectors": rng.choice(sectors),
            "partners": f"{rng.choice(partners).name_zh}:partner",
            "summary_zh": "基准测试数据。" * 5,
            "planned_start": "2026-01-01",
            "planned_end": "2027-06-30",
            "estimated_value": str(rng.randrange(100_000, 50_000_000)),
            "currency": "CNY",
            "risk_level": rng.choice(["low", "medium", "high"]),
            "tags": rng.choice(["", "冷链", "数字; 跨境电商"]),
        }
        rows.append([values.get(c.key, "") for c in PROJECT_COLUMNS])
    return rows


def to_file(rows, file_format: str) -> tuple[bytes, str]:
    headers = [c.header for c in PROJECT_COLUMNS]
    if file_format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue(), "bench.xlsx"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode("gb18030"), "bench.csv"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="also report peak Python allocations (tracemalloc slows the run 2-3x)",
    )
    args = parser.parse_args()

    user, unit, partners = setup_actor()
    data, name = to_file(make_rows(args.rows, unit, partners), args.format)
    before = Project.objects.count()
    print(f"database: {connection.vendor}; file: {name}, {len(data) / 1024 / 1024:.1f} MB")

    if args.trace_memory:
        tracemalloc.start()
    # Statements sent during the import: a figure the machine's load does not change.
    statements = []

    def count_statement(execute, sql, params, many, context):
        statements.append(1)
        return execute(sql, params, many, context)

    started = time.perf_counter()
    table = read_table(data, name)
    read_done = time.perf_counter()
    with connection.execute_wrapper(count_statement):
        report = import_projects(
            table,
            actor=user,
            commit=True,
            progress=lambda done, total: print(f"  {done}/{total}", file=sys.stderr),
        )
    finished = time.perf_counter()
    traced_peak = tracemalloc.get_traced_memory()[1] if args.trace_memory else None
    tracemalloc.stop()
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB

    assert report.committed, report.as_text()[:2000]
    assert Project.objects.count() == before + args.rows
    print(f"rows: {args.rows}, created: {report.created}")
    print(
        f"read: {read_done - started:.1f} s; import: {finished - read_done:.1f} s; "
        f"total: {finished - started:.1f} s"
    )
    print(f"statements: {len(statements)} ({len(statements) / args.rows:.1f} per row)")
    print(f"peak process RSS: {max_rss:.0f} MB")
    if traced_peak is not None:
        print(f"peak Python allocations (tracemalloc): {traced_peak / 1024 / 1024:.0f} MB")


if __name__ == "__main__":
    main()
