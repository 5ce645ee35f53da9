"""Time the project search over a fixed set of words, in process, result cache off.

    DATABASE_URL=postgres://…/registry_b100k_copy \
        python bench/search_terms.py [--rounds 3] [--json out.json] [--explain PREFIX]

Each path is the list page of 50 (newest first, with its count) that the API answers for
`/api/v1/projects/?search=…`, run through Django's test client as a logged-in manager
(middleware, filters, paginator and rendering included), `REGISTRY_RESULT_CACHE=False`,
throttling lifted. Each path is run once to warm the connection, then `--rounds` times;
the median per path is kept, and p50/p99 are reported per class of words. With
`--explain PREFIX`, the search's statements of the `--worst` slowest paths are written
with EXPLAIN (ANALYZE, BUFFERS) to `PREFIX-<n>.txt`. Reads only (the manager user and its
session are the only rows written).
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ["REGISTRY_RESULT_CACHE"] = "0"
    import django

    django.setup()

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

# (class, search words, extra filters)
TERMS = [
    *[("common Latin 1-3 chars", w, "") for w in ("a", "in", "co", "the", "e", "n")],
    *[("common Latin", w, "") for w in ("chain", "port", "China", "railway", "cross-border")],
    *[("common CJK", w, "") for w in ("合作", "项目", "中", "冷链", "中老铁路", "跨境", "广西")],
    *[("rare", w, "") for w in ("P000123", "P012345", "p09999", "Pakistan", "No. 2", "第3分支")],
    *[
        ("no match", w, "")
        for w in ("xyz", "blockchain", "量子", "龙", "zq", "Ω", "quantum", "火星基地", "q9")
    ],
    *[
        ("2-3 words", w, "")
        for w in (
            "cold chain",
            "中老铁路 冷链",
            "China Laos railway",
            "port xyz",
            "铁路 量子",
            "a the in",
            "中 合作 项目",
            "Qinzhou port",
            "跨境 电商 平台",
            "P000123 合作",
            "冷链 blockchain",
            "co 中",
        )
    ],
    *[
        ("with filters", w, f)
        for w in ("冷链", "a", "chain", "xyz", "中老铁路 冷链", "P000123")
        for f in ("status=in_progress", "country_group=asean", "status=completed&kind=activity")
    ],
]


def manager_client() -> Client:
    user, _ = get_user_model().objects.get_or_create(
        username="bench-search", defaults={"email": "bench-search@example.org"}
    )
    user.groups.add(Group.objects.get(name="manager"))
    client = Client()
    client.force_login(user)
    return client


def path_of(words: str, filters: str) -> str:
    query = urlencode({"search": words, "page_size": 50})
    return f"/api/v1/projects/?{query}{'&' + filters if filters else ''}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def explain(path: str, client: Client, out: Path) -> None:
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    lines = [f"# {path}", ""]
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            # The search's own statements (the page's columns by id are the list's).
            if "search_text" not in sql or sql.startswith(("EXPLAIN", "QUERY")):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            lines += [sql, "", *(row[0] for row in cursor.fetchall()), "", ""]
    out.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json")
    parser.add_argument("--explain")
    parser.add_argument("--only", help="run only the words of this class")
    parser.add_argument("--worst", type=int, default=4, help="paths explained")
    parser.add_argument("--timeout", type=int, default=20, help="statement timeout, s")
    args = parser.parse_args()
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {args.timeout * 1000}")
    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    with override_settings(
        REGISTRY_RESULT_CACHE=False, REST_FRAMEWORK=rest, DEBUG=False, ALLOWED_HOSTS=["testserver"]
    ):
        client = manager_client()
        results = []
        for kind, words, filters in TERMS:
            if args.only and kind != args.only:
                continue
            path = path_of(words, filters)
            try:
                response = client.get(path)
            except OperationalError:  # past the statement timeout
                results.append(
                    {"class": kind, "words": words, "filters": filters,
                     "ms": args.timeout * 1000.0, "count": None, "estimate": None, "rows": 0}
                )  # fmt: skip
                print(f"  >{args.timeout} s  {kind:24} {words} {filters}", flush=True)
                continue
            assert response.status_code == 200, (path, response.status_code)
            times = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
            body = response.json()
            results.append(
                {
                    "class": kind,
                    "words": words,
                    "filters": filters,
                    "ms": statistics.median(times),
                    "count": body["count"],
                    "estimate": body.get("count_is_estimate"),
                    "rows": len(body["results"]),
                }
            )
            row = results[-1]
            print(
                f"{row['ms']:9.1f} ms  {row['count']!s:>8}{'~' if row['estimate'] else ' '} "
                f"{kind:24} {words} {filters}",
                flush=True,
            )
        print()
        for kind in dict.fromkeys(row["class"] for row in results):
            times = [row["ms"] for row in results if row["class"] == kind]
            print(
                f"{kind:24} n={len(times):3}  p50 {percentile(times, 0.5):8.1f} ms  "
                f"p99 {percentile(times, 0.99):8.1f} ms"
            )
        times = [row["ms"] for row in results]
        print(
            f"{'all':24} n={len(times):3}  p50 {percentile(times, 0.5):8.1f} ms  "
            f"p99 {percentile(times, 0.99):8.1f} ms"
        )
        if args.json:
            Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1))
        if args.explain:
            worst = sorted(results, key=lambda row: -row["ms"])[: args.worst]
            for index, row in enumerate(worst, 1):
                explain(
                    path_of(row["words"], row["filters"]),
                    client,
                    Path(f"{args.explain}-{index}.txt"),
                )


if __name__ == "__main__":
    main()
