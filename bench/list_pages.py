"""Time the project list pages over varied paths, in process, result cache off.

    DATABASE_URL=postgres://…/registry_bench_copy \
        python bench/list_pages.py [--paths 300] [--export 10000] [--json out.json]

The paths are those of `python -m bench --varied` (`bench.varied.generate`, seed 14): the
*list* class (pages 1 to the last, a third with an ordering) and the *filtered* class
(1 to 4 of every filter of the list combined, some ordered, some page 2 or 3), `--paths`
of each. Each is requested once through Django's test client with a manager's Bearer
token (middleware, authentication, filters, paginator, rendering and JSON included),
`REGISTRY_RESULT_CACHE=False`, throttling lifted, after a warm-up on paths of another
seed. Reported per class: p50/p90/p99/max in ms, and the statements per request
(counted with `connection.execute_wrapper`); the JSON also has the five slowest paths and
one SHA-256 over every path's body, equal for two versions of the code on the same pool
exactly when they answer every path with the same bytes.
With `--export N`, the CSV rows of the N newest projects (`exports.project_rows`, in
code order) are also timed, with their statements; with `--repeat N`, the fixed URLs of
`python -m bench` are asked N times each (median: the Python part of a warm request).
Reads only (the bench-manager user and its token are the only rows written).
"""

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ["REGISTRY_RESULT_CACHE"] = "0"
    import django

    django.setup()

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

# The fixed URLs of `python -m bench` (`bench/api.py`), asked `--repeat` times each: the
# time of the same page again and again, the database's part being in its caches.
REPEATED = [
    "/api/v1/projects/?page_size=50",
    "/api/v1/projects/?page_size=50&status=in_progress&country_group=asean&sector=logistics",
]


class Statements:
    """Counts the statements run while it is active (`connection.execute_wrapper`)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(times: list[float]) -> dict:
    return {
        "n": len(times),
        "p50": round(percentile(times, 0.5), 1),
        "p90": round(percentile(times, 0.9), 1),
        "p99": round(percentile(times, 0.99), 1),
        "max": round(max(times), 1),
    }


def time_paths(client: Client, paths: list[str]) -> tuple[list[dict], Counter]:
    rows, statuses = [], Counter()
    for path in paths:
        counter = Statements()
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - start) * 1000
        statuses[response.status_code] += 1
        if response.status_code == 200:
            digest = hashlib.sha256(response.content).hexdigest()
            rows.append({"path": path, "ms": elapsed, "statements": counter.count, "body": digest})
    return rows, statuses


def time_export(size: int) -> dict:
    from projects.models import Project
    from projects.reporting import exports

    ids = list(Project.objects.order_by("-id").values_list("pk", flat=True)[:size])
    projects = Project.objects.filter(pk__gte=min(ids))
    counter = Statements()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        rows = sum(1 for _ in exports.project_rows(projects))
        elapsed = (time.perf_counter() - start) * 1000
    return {"projects": rows, "ms": round(elapsed, 1), "statements": counter.count}


def main() -> None:
    from bench import api, varied

    parser = argparse.ArgumentParser()
    parser.add_argument("--paths", type=int, default=300, help="paths per class")
    parser.add_argument("--seed", type=int, default=varied.SEED)
    parser.add_argument("--export", type=int, default=0, help="projects exported (0: none)")
    parser.add_argument(
        "--repeat", type=int, default=0, help="times each fixed path is asked (0: none)"
    )
    parser.add_argument("--json")
    args = parser.parse_args()

    reference = varied.load_reference()
    classes = ["list", "filtered"]
    paths = varied.generate(reference, args.paths, seed=args.seed, classes=classes)["paths"]
    warm = varied.generate(reference, 10, seed=args.seed + 1000, classes=classes)["paths"]
    token, note = api.bench_token()
    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    results = {"pool": reference.projects, "auth": note, "classes": {}}
    with override_settings(
        REGISTRY_RESULT_CACHE=False, REST_FRAMEWORK=rest, DEBUG=False, ALLOWED_HOSTS=["testserver"]
    ):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        for name in classes:
            time_paths(client, warm[name])
        for name in classes:
            rows, statuses = time_paths(client, paths[name])
            times = [row["ms"] for row in rows]
            statements = Counter(row["statements"] for row in rows)
            results["classes"][name] = {
                **summary(times),
                "statuses": {str(k): v for k, v in sorted(statuses.items())},
                "statements": {str(k): v for k, v in sorted(statements.items())},
                "slowest": [
                    {k: v for k, v in row.items() if k != "body"}
                    for row in sorted(rows, key=lambda row: -row["ms"])[:5]
                ],
                # Equal for two versions of the code exactly when every path's body is.
                "bodies_sha256": hashlib.sha256(
                    "\n".join(
                        f"{row['path']} {row['body']}"
                        for row in sorted(rows, key=lambda row: row["path"])
                    ).encode()
                ).hexdigest(),
            }
            found = results["classes"][name]
            print(
                f"{name:9} n={found['n']:3}  p50 {found['p50']:7.1f}  p90 {found['p90']:7.1f}  "
                f"p99 {found['p99']:7.1f}  max {found['max']:7.1f} ms  "
                f"statements {found['statements']}  statuses {found['statuses']}",
                flush=True,
            )
        if args.repeat:
            results["repeated"] = {}
            for path in REPEATED:
                rows, _statuses = time_paths(client, [path] * args.repeat)
                times = [row["ms"] for row in rows]
                results["repeated"][path] = summary(times)
                print(f"repeated {path}: {results['repeated'][path]}", flush=True)
    if args.export:
        results["export"] = time_export(args.export)
        print(f"export   {results['export']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
