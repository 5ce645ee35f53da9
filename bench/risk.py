"""Time the daily warnings job, the member-unit scorecards and the dashboard's results
figures on a seeded pool (PostgreSQL).

    DATABASE_URL=postgres://…/registry_bench python bench/risk.py --projects 100000

Seeds the pool with `bench/seed.py` (tops it up to --projects), then adds results to a
share of the projects (one result, one indicator following a standard one, one period
ended last year with a target and an approved actual) and a few countries at high or very
high risk. Then it runs, each timed with its peak Python memory (tracemalloc) and the
process's peak resident size:
- `compute_warnings()` from no warnings (raises them all), then again (idempotent: raises
  and resolves nothing), then one event's recomputation of one project;
- `scorecards()` for a manager over last year (every lead unit);
- `indicator_table()` + `achievement_rate()`, and apart `open_counts()` + `open_trend()`,
  as the dashboard asks for them, repeated, with p50/p99: for the whole pool (a manager
  without filters) and for the selections of its filters (a country group, a top-level
  sector, one lead unit).
Writes bench/results/risk-<projects>.json (`--figures-only` times the figures alone and
leaves the warnings as they are).
"""

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    import django

    django.setup()

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from bench.seed import seed
from projects.models import Project
from projects.results.figures import achievement_rate, indicator_table
from projects.results.models import Indicator, Period, Result, StandardIndicator
from projects.results.scorecards import period_of, scorecards
from projects.risk.models import CountryRisk, Warning
from projects.risk.warnings import compute_warnings, open_counts, open_trend
from registry.models import Sector

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def add_results(share: float, rng: random.Random) -> int:
    """One result → indicator → approved period for `share` of the projects lacking one."""
    if Result.objects.exists():
        return 0
    standards = list(StandardIndicator.objects.all())
    last_year = date.today().year - 1
    ids = [pk for pk in Project.objects.values_list("pk", flat=True) if rng.random() < share]
    with transaction.atomic():
        results = Result.objects.bulk_create(
            [Result(project_id=pk, type="output", title_en="Bench output") for pk in ids],
            batch_size=5000,
        )
        indicators = Indicator.objects.bulk_create(
            [Indicator(result=r, standard=rng.choice(standards), unit="u") for r in results],
            batch_size=5000,
        )
        Period.objects.bulk_create(
            [
                Period(
                    indicator=i,
                    period_start=date(last_year, 1, 1),
                    period_end=date(last_year, 12, 31),
                    target_value=Decimal(100),
                    actual_value=Decimal(rng.randint(20, 160)),
                    status=Period.State.APPROVED,
                )
                for i in indicators
            ],
            batch_size=5000,
        )
    return len(ids)


def add_country_risks() -> None:
    if CountryRisk.objects.exists():
        return
    for country, level in (("MM", 4), ("LA", 3), ("KH", 3), ("PK", 3), ("AF", 4)):
        CountryRisk.objects.create(country_id=country, category="security", level=level)


def measured(label: str, function, *args, **kwargs) -> tuple[dict, object]:
    tracemalloc.start()
    started = time.perf_counter()
    value = function(*args, **kwargs)
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    row = {
        "seconds": round(seconds, 3),
        "peak_python_mb": round(peak / 2**20, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(f"{label}: {row}")
    return row, value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--results-share", type=float, default=0.3)
    parser.add_argument("--repeat", type=int, default=30, help="runs of the results figures")
    parser.add_argument(
        "--figures-only",
        action="store_true",
        help="time the results figures alone (the report's other figures are kept)",
    )
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        print("bench/risk.py needs PostgreSQL (DATABASE_URL)", file=sys.stderr)
        return 2
    path = RESULTS_DIR / f"risk-{args.projects}.json"
    if args.figures_only:
        report = json.loads(path.read_text()) if path.exists() else {}
    else:
        report = prepare_and_time_warnings(args)
    time_figures(report, args.repeat)
    RESULTS_DIR.mkdir(exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"written {path}")
    return 0


def prepare_and_time_warnings(args) -> dict:
    rng = random.Random(7)
    report = {"projects_wanted": args.projects}
    report["seed"], _ = measured("seed", seed, args.projects, log=print)
    report["results_added"] = add_results(args.results_share, rng)
    add_country_risks()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    report["projects"] = Project.objects.count()
    report["periods"] = Period.objects.count()

    Warning.history.model.objects.all().delete()
    Warning.objects.all().delete()
    report["warnings_first_run"], counts = measured("warnings, first run", compute_warnings)
    report["warnings_raised"] = {kind: c["raised"] for kind, c in counts.items()}
    # The statistics of the filled warnings table, as autovacuum gathers them between two
    # daily runs (without them the planner takes the table for empty).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_warning")
    report["warnings_second_run"], again = measured("warnings, second run", compute_warnings)
    assert all(c["raised"] == 0 and c["resolved"] == 0 for c in again.values()), again
    one = Project.objects.filter(status="in_progress").values_list("pk", flat=True).first()
    report["warnings_one_project"], _ = measured(
        "warnings, one project's event", compute_warnings, project_ids=[one]
    )

    manager = get_user_model()(username="bench", is_superuser=True, is_active=True)
    last_year = period_of(date.today().year - 1)
    report["scorecards_year"], cards = measured("scorecards", scorecards, manager, last_year)
    report["scorecard_units"] = len(cards)
    return report


def time_figures(report: dict, repeat: int) -> None:
    """The figures as `projects.reporting.dashboard.results_figures` asks for them for a
    manager: the whole pool, and the selection of each filter."""
    unit = (
        Project.objects.order_by().values_list("lead_unit_id", flat=True).exclude(results=None)
    ).first()
    selections = {
        "whole_pool": None,
        # As `StatsFilter` selects them (the list's filters), over the whole pool.
        "country_group_asean": Project.objects.in_country_group("asean"),
        "sector_culture": Project.objects.in_sector(Sector.objects.get(code="culture")),
        "one_lead_unit": Project.objects.filter(lead_unit_id=unit),
    }
    report["results_figures_ms"] = {}
    report["warning_figures_ms"] = {}
    for name, filters in selections.items():
        projects = filters
        results, warnings = [], []
        for _ in range(repeat):
            started = time.perf_counter()
            indicator_table(projects)
            achievement_rate(projects)
            between = time.perf_counter()
            open_counts(projects)
            open_trend(projects)
            results.append(between - started)
            warnings.append(time.perf_counter() - between)
        report["results_figures_ms"][name] = {
            **percentiles(results),
            "periods": sum(row["periods"] for row in indicator_table(projects)),
        }
        report["warning_figures_ms"][name] = {
            **percentiles(warnings),
            "open_warnings": sum(row["count"] for row in open_counts(projects)),
        }
        print(f"results figures, {name}: {report['results_figures_ms'][name]}")
        print(f"warning counts and trend, {name}: {report['warning_figures_ms'][name]}")


def percentiles(times: list[float]) -> dict:
    times = sorted(times)
    return {
        "p50": round(statistics.median(times) * 1000, 1),
        "p99": round(times[min(len(times) - 1, int(len(times) * 0.99))] * 1000, 1),
        "runs": len(times),
    }


if __name__ == "__main__":
    sys.exit(main())
