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
- `indicator_table()` + `achievement_rate()`, repeated, with p50/p99.
Writes bench/results/risk-<projects>.json.
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
from projects.risk.warnings import compute_warnings

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
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        print("bench/risk.py needs PostgreSQL (DATABASE_URL)", file=sys.stderr)
        return 2
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

    projects = Project.objects.all()
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        indicator_table(projects)
        achievement_rate(projects)
        times.append(time.perf_counter() - started)
    times.sort()
    report["results_figures_ms"] = {
        "p50": round(statistics.median(times) * 1000, 1),
        "p99": round(times[min(len(times) - 1, int(len(times) * 0.99))] * 1000, 1),
        "runs": len(times),
    }
    print(f"results figures: {report['results_figures_ms']}")
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"risk-{args.projects}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
