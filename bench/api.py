"""Time the API as production serves it, against the SQL floor and the default ModelViewSet.

For each call (list of 50, filtered list, Chinese search, detail, stats summary, the
bench-only baseline list):
- the load: gunicorn (`registry.wsgi`, 2 workers, DEBUG off) on 127.0.0.1, driven by wrk
  in its own process: first one connection (latency p50/p95/p99 of a request on its own),
  then `--concurrency` connections (requests per second); each run bounded in time and in
  number of requests;
- the floor: the same data by one hand-written SQL statement (`bench/sql.py`) through
  psycopg, timed the same way, and the ratio API/SQL;
- in process: the number of SQL queries of one request and, for the lists, EXPLAIN
  (ANALYZE, BUFFERS) of the page query the view ran, with the indexes it used.
Then the full CSV export through a single-worker gunicorn: time, size and the worker's
peak RSS (VmHWM), against a COPY … TO STDOUT of the same rows.

An endpoint that answers 404 (not built yet) is skipped with a note; nothing crashes.
Run through `python -m bench` (see bench/README.md).
"""

import concurrent.futures
import contextlib
import json
import logging
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import psycopg
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import sql as floors_sql
from projects.models import Project

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
WRK_SCRIPT = BENCH_DIR / "wrk.lua"
BENCH_USER = "bench-manager"

# What the filtered list and the search ask for (the same values go to the SQL floor).
FILTERS = {"status": "in_progress", "country_group": "asean", "sector": "logistics"}
SEARCH = "冷链"


@dataclass(frozen=True)
class Call:
    name: str
    label: str
    path: str
    floor: str | None
    explain: bool = False


def calls(code: str) -> list[Call]:
    query = urllib.parse.urlencode
    return [
        Call("list", "project list, page of 50", "/api/v1/projects/?page_size=50", "list", True),
        Call(
            "list_filtered",
            "list filtered by status + country group + sector",
            f"/api/v1/projects/?{query({'page_size': 50, **FILTERS})}",
            "list_filtered",
            True,
        ),
        Call(
            "list_search",
            f"list, Chinese search «{SEARCH}»",
            f"/api/v1/projects/?{query({'page_size': 50, 'search': SEARCH})}",
            "list_search",
            True,
        ),
        Call("detail", "project detail", f"/api/v1/projects/{code}/", "detail"),
        Call("stats", "stats summary", "/api/v1/stats/summary/", "stats"),
        Call(
            "baseline_list",
            "default ModelViewSet list (baseline)",
            "/bench/baseline/projects/?page_size=50",
            "list",
            True,
        ),
    ]


EXPORT_PATH = "/api/v1/projects/export/?format=csv"


# --- Machine -------------------------------------------------------------------------------


def machine_info() -> dict:
    info = {"nproc": len(os.sched_getaffinity(0)), "python": sys.version.split()[0]}
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kb = int(next(line.split()[1] for line in meminfo.splitlines() if "MemTotal" in line))
        info["memory_gb"] = round(kb / 1024 / 1024, 1)
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(
            line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line
        )
        info["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    except (OSError, StopIteration):
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        info["postgresql"] = cursor.fetchone()[0].split()[0]
        # JIT compilation can cost seconds on queries over the whole pool: worth knowing.
        cursor.execute("SHOW jit")
        info["jit"] = cursor.fetchone()[0]
    with contextlib.suppress(OSError):
        info["git"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    info["wrk"] = wrk_version()
    return info


def wrk_version() -> str | None:
    if not shutil.which("wrk"):
        return None
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return " ".join((out.stdout + out.stderr).split()[:2]) or "wrk"


WRK_MISSING = (
    "wrk is not installed: install it with `apt-get install -y wrk` (Debian/Ubuntu) and "
    "run again; load runs were skipped."
)


# --- The bench user and token ---------------------------------------------------------------


def bench_token() -> tuple[str | None, str]:
    """A manager user and an API token for it (None when the app has no tokens yet)."""
    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_USER, defaults={"email": "bench@example.org"}
    )
    user.groups.add(Group.objects.get(name="manager"))
    out, err = StringIO(), StringIO()
    try:
        call_command("issue_token", BENCH_USER, "--name", "bench", "--days", "1", stdout=out,
                     stderr=err)  # fmt: skip
    except Exception as error:  # the command is part of the API, which may not be merged
        return None, f"no token ({error}); requests are anonymous"
    lines = [line.strip() for line in out.getvalue().splitlines() if line.strip()]
    return (lines[-1], "Bearer token of bench-manager") if lines else (None, "no token printed")


# --- gunicorn -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn serving `registry.wsgi` with the bench settings, as production runs it."""

    def __init__(self, workers: int, *, timeout: int | None = None):
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "registry.wsgi",
            "-w", str(workers),
            "--bind", f"127.0.0.1:{self.port}",
            "--no-control-socket",
        ]  # fmt: skip
        if timeout:
            command += ["--timeout", str(timeout)]
        self.command = command
        self.log = RESULTS_DIR / "gunicorn.log"
        self.process = None

    def __enter__(self):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
        handle = self.log.open("a")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}; see {self.log}"
                )
            try:
                urllib.request.urlopen(self.base + "/admin/login/", timeout=2).close()
            except urllib.error.HTTPError:
                pass  # any HTTP answer means it is serving
            except OSError:
                time.sleep(0.3)
                continue
            if len(self.worker_pids()) >= self.workers:
                return self
            time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not answer within 60 s; see {self.log}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def worker_pids(self) -> list[int]:
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            return [int(child) for child in children]
        except OSError:
            return []


def proc_status_kb(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# --- Measuring ------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary_ms(values: list[float]) -> dict:
    return {
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "p99": round(percentile(values, 99), 2),
        "n": len(values),
    }


def warm_every_worker(url: str, token: str | None, workers: int) -> None:
    """Each worker answers the call before it is timed, as the load runs measure the
    cached case. One after another, the requests could all go to the same free worker,
    and the other's first (cold) request in the timed run outlast the run (1,000,000
    projects: stats ~20 s cold, no request finished in 10 s). `workers` at a time, a
    busy worker leaves the next to another; a few rounds, since an idle worker that
    wins a race for one may win the next as well."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda _: probe(url, token), range(8 * workers)))


def probe(url: str, token: str | None) -> tuple[int, int]:
    """(status, body bytes) of one GET."""
    status, body = fetch(url, token)
    return status, len(body)


def fetch(url: str, token: str | None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def check_answer(name: str, body: bytes, floor: dict | None, code: str) -> str | None:
    """Why the API's answer is not the expected rows (None when it is): the list calls
    report the floor's count and a full page, the detail the asked project, the summary
    the floor's count of projects. Checked once, before any timing."""
    try:
        data = json.loads(body)
    except ValueError:
        return "answer is not JSON"
    if name == "detail":
        return None if data.get("code") == code else f"detail of {data.get('code')!r}"
    if floor is None:
        return None
    if name == "stats":
        return (
            None
            if data.get("count") == floor["count"]
            else (f"count {data.get('count')} ≠ floor {floor['count']}")
        )
    expected = min(50, floor["count"])
    if data.get("count") != floor["count"]:
        return f"count {data.get('count')} ≠ floor {floor['count']}"
    if len(data.get("results", [])) != expected:
        return f"{len(data.get('results', []))} rows, expected {expected}"
    api_codes = [row["code"] for row in data["results"]]
    floor_codes = [row["code"] for row in floor["results"]]
    return None if api_codes == floor_codes else "page holds other projects than the floor's"


def floor_answer(conn, statement: str, params: dict) -> dict | None:
    with conn.cursor() as cursor:
        cursor.execute(statement, params or None)
        value = cursor.fetchone()[0]
    data = json.loads(value) if isinstance(value, str) else value
    return data if isinstance(data, dict) else None


def floor_conninfo() -> dict:
    """The floor's connection gets the session options the app's connections get (the
    app turns PostgreSQL's jit off), so both run under the same planner settings."""
    options = connection.settings_dict.get("OPTIONS", {}).get("options")
    return {"options": options} if options else {}


def run_wrk(url: str, token: str | None, *, connections: int, duration: float, requests: int):
    threads = min(connections, 2)
    env = {
        **os.environ,
        "BENCH_TOKEN": token or "",
        "BENCH_LIMIT": str(math.ceil(requests / threads)),
    }
    command = [
        "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
        "--timeout", "60s", "-s", str(WRK_SCRIPT), url,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    finished, other = 0, []
    for message in process.stderr:
        if message.startswith("BENCH_THREAD_DONE"):
            finished += 1
            if finished == threads:  # every thread reached the count: wrk reports on SIGINT
                process.send_signal(signal.SIGINT)
        else:
            other.append(message)
    stdout = process.communicate(timeout=duration + 120)[0]
    line = next((x for x in stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {stdout[-500:]} {''.join(other)[-500:]}")
    data = json.loads(line[len("BENCH ") :])
    seconds = data["duration_us"] / 1e6
    return {
        "p50": round(data["p50_us"] / 1000, 2),
        "p95": round(data["p95_us"] / 1000, 2),
        "p99": round(data["p99_us"] / 1000, 2),
        "n": data["requests"],
        "rps": round(data["requests"] / seconds, 1) if seconds else None,
        "errors": data["status_errors"] + data["socket_errors"],
        "connections": connections,
    }


def time_sql(conn, statement: str, params: dict, *, duration: float, requests: int) -> dict:
    """Run the statement one after another (as one client would) and time each round trip,
    fetching the whole result."""
    params = params or None
    with conn.cursor() as cursor:
        for _ in range(2):  # warm the plan and the buffers, as the API's warm-up does
            cursor.execute(statement, params)
            cursor.fetchall()
        timings, deadline = [], time.perf_counter() + duration
        while len(timings) < requests and time.perf_counter() < deadline:
            started = time.perf_counter()
            cursor.execute(statement, params)
            cursor.fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return summary_ms(timings)


def client(token: str | None) -> Client:
    headers = {"HTTP_ACCEPT": "application/json", "HTTP_HOST": "127.0.0.1"}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return Client(raise_request_exception=False, **headers)


# Warm requests in process, of which the median is reported (a single one varied twofold).
WARM_RUNS = 5


def count_queries(path: str, token: str | None) -> dict:
    """Run the request in process and capture its SQL: a warm-up, then *cold* once (the
    result cache emptied, as after any change to the data: the exact count and the
    stats figures are computed) and *warm* `WARM_RUNS` times (answered from that cache,
    as the load runs are; the median time). Reports the queries and the in-process time
    of both."""
    browser = client(token)
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)  # a 404 here is expected, not news
    found = {}
    try:
        browser.get(path)
        for name, runs in (("cold", 1), ("warm", WARM_RUNS)):
            if name == "cold":
                cache.clear()
            times = []
            for _ in range(runs):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = browser.get(path)
                    times.append(time.perf_counter() - started)
            found[name] = {
                "queries": [q["sql"] for q in captured],
                "ms": round(statistics.median(times) * 1000, 1),
            }
    finally:
        request_log.setLevel(level)
    return {"status": response.status_code, **found}


def page_query(queries: list[str]) -> str | None:
    """The statement that fetched the page of projects (not the count, not a prefetch)."""
    for statement in queries:
        is_page = 'FROM "projects_project"' in statement and " LIMIT " in statement
        if is_page and "COUNT(" not in statement.upper():
            return statement
    return None


def count_query(queries: list[str]) -> str | None:
    for statement in queries:
        if 'FROM "projects_project"' in statement and "COUNT(" in statement.upper():
            return statement
    return None


def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def explain(conn, statement: str, params: dict | None, name: str) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS): which indexes the plan uses, which tables it reads
    whole, how long it took; the text plan is saved next to the results."""
    params = params or None
    with conn.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params)
        plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        text = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT indexname, tablename FROM pg_indexes WHERE schemaname = 'public'")
        index_table = dict(cursor.fetchall())
    (RESULTS_DIR / f"explain-{name}.txt").write_text(statement.strip() + "\n\n" + text + "\n")
    nodes = list(_plan_nodes(plan[0]["Plan"]))
    indexes = sorted(
        {
            f"{index_table.get(n['Index Name'], n.get('Relation Name', '?'))}.{n['Index Name']}"
            for n in nodes
            if "Index Name" in n
        }
    )
    seq_scans = sorted({n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"})
    return {
        "indexes": indexes,
        "seq_scans": seq_scans,
        # The pool's own table is reached through an index, never read whole.
        "index_used": any(i.startswith("projects_project.") for i in indexes)
        and "projects_project" not in seq_scans,
        "execution_ms": round(plan[0]["Execution Time"], 2),
        "plan_file": f"bench/results/explain-{name}.txt",
    }


def pick_code() -> str:
    """A project from the middle of the pool, for the detail call."""
    total = Project.objects.count()
    return Project.objects.order_by("id").values_list("code", flat=True)[total // 2]


# --- The run --------------------------------------------------------------------------------


def run(
    *,
    duration: float,
    requests: int,
    concurrency: int,
    workers: int,
    timeout: int = 120,
    export: bool = True,
    log=print,
) -> dict:
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "gunicorn.log").write_text("")
    code = pick_code()
    token, auth_note = bench_token()
    log(f"Auth: {auth_note}.")
    conninfo = os.environ["DATABASE_URL"]
    statements = floors_sql.floors(**FILTERS, search=SEARCH, code=code)
    have_wrk = wrk_version() is not None
    if not have_wrk:
        log(WRK_MISSING)
    results = {
        "settings": {
            "duration_s": duration,
            "requests": requests,
            "concurrency": concurrency,
            "gunicorn_workers": workers,
            "detail_code": code,
            "filters": FILTERS,
            "search": SEARCH,
            "auth": auth_note,
        },
        "calls": {},
        "notes": [] if have_wrk else [WRK_MISSING],
    }
    with psycopg.connect(conninfo, autocommit=True, **floor_conninfo()) as conn:
        # In process: queries per request and the plans of the page queries.
        for call in calls(code):
            entry = results["calls"].setdefault(call.name, {"label": call.label, "path": call.path})
            captured = count_queries(call.path, token)
            entry["status"] = captured["status"]
            if captured["status"] == 404:
                entry["skipped"] = "answers 404 (endpoint not built or not merged yet)"
                log(f"{call.name}: skipped, {call.path} answers 404.")
                continue
            if captured["status"] != 200:
                entry["skipped"] = f"answers {captured['status']}"
                log(f"{call.name}: skipped, {call.path} answers {captured['status']}.")
                continue
            cold, warm = captured["cold"], captured["warm"]
            entry["queries"] = len(warm["queries"])
            entry["queries_cold"] = len(cold["queries"])
            entry["in_process_ms"] = {"cold": cold["ms"], "warm": warm["ms"]}
            if call.explain:
                page = page_query(cold["queries"])
                if page:
                    entry["explain"] = explain(conn, page, None, f"{call.name}-page")
                total = count_query(cold["queries"])
                if total:
                    entry["explain_count"] = explain(conn, total, None, f"{call.name}-count")
        # The floors, and their plans.
        results["sql"] = {}
        expected = {
            name: floor_answer(conn, statement, params)
            for name, (statement, params) in statements.items()
            if name in {"list", "list_filtered", "list_search", "stats"}
        }
        for name, (statement, params) in statements.items():
            log(f"SQL floor {name} …")
            results["sql"][name] = time_sql(
                conn, statement, params, duration=duration, requests=requests
            )
            if name.startswith("list"):
                results["sql"][name]["explain"] = explain(conn, statement, params, f"sql-{name}")

        # Over HTTP, served by gunicorn.
        with Gunicorn(workers, timeout=timeout) as server:
            results["settings"]["gunicorn"] = " ".join(server.command[1:])
            for call in calls(code):
                entry = results["calls"][call.name]
                if "skipped" in entry:
                    continue
                url = server.base + call.path
                status, body = fetch(url, token)
                if status != 200:
                    entry["skipped"] = f"answers {status} over HTTP"
                    log(f"{call.name}: skipped, answers {status} over HTTP.")
                    continue
                entry["bytes"] = len(body)
                floor_name = "list" if call.name == "baseline_list" else call.name
                problem = check_answer(call.name, body, expected.get(floor_name), code)
                if problem:
                    entry["skipped"] = f"wrong answer: {problem}"
                    log(f"{call.name}: skipped, wrong answer: {problem}.")
                    continue
                entry["checked"] = True
                if not have_wrk:
                    continue
                warm_every_worker(url, token, workers)
                log(f"{call.name}: load …")
                entry["latency"] = run_wrk(
                    url, token, connections=1, duration=duration, requests=requests
                )
                entry["throughput"] = run_wrk(
                    url, token, connections=concurrency, duration=duration, requests=requests
                )
        results["export"] = (
            run_export(conn, token, log=log) if export else {"skipped": "--no-export"}
        )
    add_ratios(results)
    return results


def run_export(conn, token: str | None, *, log=print) -> dict:
    """The whole pool as CSV through one worker: time, size, the worker's peak RSS; and
    the floor, COPY of the same rows to the client."""
    export = {"path": EXPORT_PATH}
    started = time.perf_counter()
    size = 0
    with conn.cursor() as cursor, cursor.copy(floors_sql.EXPORT_COPY) as copy:
        for chunk in copy:
            size += len(chunk)
    export["sql"] = {"seconds": round(time.perf_counter() - started, 2), "bytes": size}
    # One worker, so its peak RSS is the export's; a long timeout, since a sync worker is
    # killed when one request outlasts it (a production export needs the same).
    with Gunicorn(1, timeout=900) as server:
        pid = server.worker_pids()[0]
        probe(server.base + "/api/v1/projects/?page_size=1", token)  # warm-up
        export["rss_before_mb"] = round((proc_status_kb(pid, "VmRSS") or 0) / 1024, 1)
        request = urllib.request.Request(server.base + EXPORT_PATH)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=900) as response:
                first_byte = time.perf_counter() - started
                size = lines = 0
                while chunk := response.read(1 << 16):
                    size += len(chunk)
                    lines += chunk.count(b"\n")
        except urllib.error.HTTPError as error:
            export["skipped"] = (
                "answers 404 (endpoint not built or not merged yet)"
                if error.code == 404
                else f"answers {error.code}"
            )
            log(f"export: skipped, {EXPORT_PATH} {export['skipped']}.")
            return export
        export.update(
            {
                "seconds": round(time.perf_counter() - started, 2),
                "first_byte_s": round(first_byte, 3),
                "bytes": size,
                "rows": max(lines - 1, 0),
                "peak_rss_mb": round((proc_status_kb(pid, "VmHWM") or 0) / 1024, 1),
            }
        )
        log(f"export: {export['rows']:,} rows in {export['seconds']} s.")
    return export


def add_ratios(results: dict) -> None:
    calls_ = results["calls"]
    sql = results["sql"]
    for name, entry in calls_.items():
        latency = entry.get("latency")
        floor_name = "list" if name == "baseline_list" else name
        if latency and latency.get("errors"):
            # Requests that failed (e.g. killed by the worker timeout) have no latency.
            entry["failed"] = f"{latency['errors']} of {latency['n']} requests failed"
            entry.pop("latency")
            entry.pop("throughput", None)
            continue
        if latency and floor_name in sql:
            entry["ratio_sql"] = round(latency["p50"] / sql[floor_name]["p50"], 1)
    baseline = calls_.get("baseline_list", {}).get("latency")
    listing = calls_.get("list", {}).get("latency")
    if baseline and listing:
        calls_["list"]["baseline_speedup"] = round(baseline["p50"] / listing["p50"], 1)
