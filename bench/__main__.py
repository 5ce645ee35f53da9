"""`python -m bench --projects 100000`: seed when the pool is smaller, measure, write
bench/results/latest.json (and pool-<N>.json) and the results section of bench/README.md.

`python -m bench --varied`: many different paths per class on the pool as it is (never
seeded), quiet and with one write per second, result cache off and on (`bench/varied.py`);
writes bench/results/varied-<N>.json and the varied section of bench/README.md.

Needs DATABASE_URL pointing at PostgreSQL with migrations and reference data loaded
(`manage.py migrate && manage.py load_reference`), and wrk on the PATH for the load runs.
"""

import argparse
import json
import os
import secrets
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def configure_environment() -> None:
    """Production-like settings for this process and the gunicorn it starts."""
    sys.path.insert(0, str(ROOT))
    # The bench settings add the baseline's URLs to the app's.
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(40))
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=100_000, help="pool size (seeded if less)")
    parser.add_argument("--partners", type=int, default=2000, help="partners (seeded if fewer)")
    parser.add_argument("--reset", action="store_true", help="empty the pool and seed it afresh")
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds per load run (max; default 10, with --varied 60 per class and run)",
    )
    parser.add_argument(
        "--requests", type=int, default=None, help="requests per load run (max; default 500)"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="connections, throughput run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--timeout",
        type=int,
        default=None,
        help="gunicorn worker timeout (s; default 120: a cold stats summary of 1,000,000 "
        "projects takes >30 s; with --varied 30, and a request killed by it counts as "
        "no answer)",
    )
    parser.add_argument("--no-export", action="store_true", help="skip the CSV export run")
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md alone")
    varied = parser.add_argument_group("varied run (--varied)")
    varied.add_argument("--varied", action="store_true", help="many distinct paths per class")
    varied.add_argument("--paths-per-class", type=int, default=300, help="distinct paths per class")
    varied.add_argument(
        "--admin-paths-per-class",
        type=int,
        default=100,
        help="distinct paths for each admin class (its pages take seconds: default 100)",
    )
    varied.add_argument("--seed", type=int, default=14, help="seed of the generated paths")
    varied.add_argument(
        "--no-write", action="store_true", help="skip the one-write-per-second runs"
    )
    varied.add_argument(
        "--cache",
        default="off,on",
        help="result-cache settings to run, comma-separated (off,on)",
    )
    varied.add_argument(
        "--classes",
        default=None,
        help="classes to run, comma-separated (default all: detail,list,filtered,search,"
        "stats,admin_list,admin_filtered,admin_dashboard)",
    )
    varied.add_argument(
        "--baseline-pages", type=int, default=20, help="ModelViewSet pages timed per quiet run"
    )
    args = parser.parse_args(argv)

    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("python -m bench: set DATABASE_URL=postgres://… (PostgreSQL only).", file=sys.stderr)
        return 2
    configure_environment()
    import django

    django.setup()
    if args.varied:
        return run_varied(args)
    from django.db import connection

    from bench import api, report, seed
    from partners.models import Partner
    from projects.models import Project

    started = datetime.now().astimezone()
    try:
        seed.check_database(connection)
    except seed.SeedError as error:
        print(f"python -m bench: {error}", file=sys.stderr)
        return 2
    seeded = None
    existing = Project.objects.count()
    if args.reset or existing < args.projects:
        print(f"Pool has {existing:,} projects; seeding to {args.projects:,} …")
        seeded = seed.seed(args.projects, args.partners, reset=args.reset, log=print)
        print("\n".join(seeded.lines()))
    elif existing > args.projects:
        print(
            f"Note: the pool has {existing:,} projects, more than --projects {args.projects:,}; "
            "measuring it as it is (use --reset to seed exactly that many)."
        )

    results = {"date": started.isoformat(timespec="seconds"), "machine": api.machine_info()}
    results["pool"] = {"projects": Project.objects.count(), "partners": Partner.objects.count()}
    if seeded:
        results["seed"] = seeded.as_dict()
    results.update(
        api.run(
            duration=args.duration or 10,
            requests=args.requests or 500,
            concurrency=args.concurrency,
            workers=args.workers,
            timeout=args.timeout or 120,
            export=not args.no_export,
        )
    )
    results["targets"] = [
        {"target": label, "measured": measured, "met": met}
        for label, measured, met in report.targets(results)
    ]
    text = json.dumps(results, ensure_ascii=False, indent=2)
    (api.RESULTS_DIR / "latest.json").write_text(text + "\n", encoding="utf-8")
    (api.RESULTS_DIR / f"pool-{results['pool']['projects']}.json").write_text(
        text + "\n", encoding="utf-8"
    )
    print(report.render(results))
    if not args.no_readme:
        report.update_readme(results)
        print(f"Results written to {api.RESULTS_DIR / 'latest.json'} and {report.README}.")
    return 0


def run_varied(args) -> int:
    from django.db import connection

    from bench import seed, varied

    try:
        seed.check_database(connection)
    except seed.SeedError as error:
        print(f"python -m bench: {error}", file=sys.stderr)
        return 2
    classes = tuple(args.classes.split(",")) if args.classes else None
    unknown = set(classes or ()) - set(varied.CLASSES)
    cache_modes = tuple(mode.strip() for mode in args.cache.split(",") if mode.strip())
    if unknown or not set(cache_modes) <= {"off", "on"}:
        print(
            f"python -m bench: unknown class or cache mode {unknown or cache_modes}",
            file=sys.stderr,
        )
        return 2
    results = varied.run(
        per_class=args.paths_per_class,
        admin_per_class=args.admin_paths_per_class,
        duration=args.duration or 60,
        # Each path once per run unless --requests asks for more (or fewer).
        requests=args.requests,
        workers=args.workers,
        timeout=args.timeout or 30,
        write=not args.no_write,
        cache_modes=cache_modes,
        classes=classes,
        baseline_pages=args.baseline_pages,
        seed=args.seed,
    )
    path = varied.save(results)
    print(varied.render(results))
    if not args.no_readme:
        varied.update_readme()
        print(f"Results written to {path} and {varied.README}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
