"""`python -m bench --projects 100000`: seed when the pool is smaller, measure, write
bench/results/latest.json (and pool-<N>.json) and the results section of bench/README.md.

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
    parser.add_argument("--duration", type=float, default=10, help="seconds per load run (max)")
    parser.add_argument("--requests", type=int, default=500, help="requests per load run (max)")
    parser.add_argument("--concurrency", type=int, default=4, help="connections, throughput run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--timeout",
        type=int,
        default=120,
        help="gunicorn worker timeout (s): a cold stats summary of 1,000,000 projects takes >30 s",
    )
    parser.add_argument("--no-export", action="store_true", help="skip the CSV export run")
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md alone")
    args = parser.parse_args(argv)

    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("python -m bench: set DATABASE_URL=postgres://… (PostgreSQL only).", file=sys.stderr)
        return 2
    configure_environment()
    import django

    django.setup()
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
            duration=args.duration,
            requests=args.requests,
            concurrency=args.concurrency,
            workers=args.workers,
            timeout=args.timeout,
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


if __name__ == "__main__":
    sys.exit(main())
