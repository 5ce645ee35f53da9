"""Turn a run's results into the tables of bench/README.md (between the markers) and
check them against the targets of the benchmark issue."""

import json
import re
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
README = BENCH_DIR / "README.md"
RESULTS_DIR = BENCH_DIR / "results"
START, END = "<!-- results:start -->", "<!-- results:end -->"
TIMES = "\u00d7"  # the multiplication sign of ratios


def _get(data: dict, *keys):
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _num(value, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        value = f"{value:,.{digits}f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    return f"{value}{unit}"


def _check(value, ok) -> bool | None:
    return None if value is None else bool(ok(value))


def pool_results(size: int) -> dict | None:
    path = RESULTS_DIR / f"pool-{size}.json"
    return json.loads(path.read_text()) if path.exists() else None


def targets(results: dict) -> list[tuple[str, str, bool | None]]:
    calls = results.get("calls", {})
    rows = []
    value = _get(calls, "list", "queries")
    cold = _get(calls, "list", "queries_cold")
    rows.append(
        (
            "list page of 50: at most 6 queries",
            f"{_num(value)} ({_num(cold)} when the count is not cached)",
            _check(value, lambda v: v <= 6),
        )
    )
    value = _get(calls, "list", "ratio_sql")
    rows.append(
        (
            f"list p50 ≤ 3{TIMES} hand-written SQL",
            _num(value, TIMES),
            _check(value, lambda v: v <= 3),
        )
    )
    value = _get(calls, "list", "baseline_speedup")
    rows.append(
        (
            f"list ≥ 10{TIMES} faster than the default ModelViewSet",
            _num(value, TIMES),
            _check(value, lambda v: v >= 10),
        )
    )
    for name, label in (("list_filtered", "filtered list"), ("list_search", "Chinese search")):
        value = _get(calls, name, "latency", "p50")
        rows.append((f"{label} p50 < 50 ms", _num(value, " ms"), _check(value, lambda v: v < 50)))
        value = _get(calls, name, "explain", "index_used")
        indexes = ", ".join(_get(calls, name, "explain", "indexes") or []) or "none"
        rows.append(
            (
                f"{label}: EXPLAIN shows index use",
                "—" if value is None else f"{'yes' if value else 'no'} ({indexes})",
                value,
            )
        )
    value = _get(calls, "stats", "ratio_sql")
    cold = _get(calls, "stats", "in_process_ms", "cold")
    floor = _get(results, "sql", "stats", "p50")
    cold_ratio = f"; cold, in process: {cold / floor:.2f}{TIMES}" if cold and floor else ""
    rows.append(
        (
            f"stats summary p50 ≤ 1.5{TIMES} raw aggregate SQL",
            f"{_num(value, TIMES)} (cached figures{cold_ratio})",
            _check(value, lambda v: v <= 1.5),
        )
    )
    value = _get(results, "export", "peak_rss_mb")
    pool = _get(results, "pool", "projects") or 0
    rows.append(
        (
            f"CSV export of the pool ({pool:,} projects): worker peak RSS < 200 MB",
            _num(value, " MB"),
            _check(value, lambda v: v < 200),
        )
    )
    small, large = pool_results(100_000), pool_results(1_000_000)
    for name, label in (("list", "list"), ("stats", "stats")):
        a = _get(small or {}, "calls", name, "latency", "p50")
        b = _get(large or {}, "calls", name, "latency", "p50")
        growth = round(b / a, 2) if a and b else None
        rows.append(
            (
                f"1,000,000 projects: {label} p50 grows < 2{TIMES} from 100,000",
                "—" if growth is None else f"{growth}{TIMES} ({a} → {b} ms)",
                _check(growth, lambda v: v < 2),
            )
        )
    return rows


def render(results: dict) -> str:
    machine = results.get("machine", {})
    pool = results.get("pool", {})
    settings = results.get("settings", {})
    lines = [
        f"Run of {results.get('date', '?')} at git `{machine.get('git', '?')}` on "
        f"{machine.get('cpu', '?')}, nproc {machine.get('nproc', '?')}, "
        f"{machine.get('memory_gb', '?')} GB, PostgreSQL {machine.get('postgresql', '?')}, "
        f"{machine.get('wrk') or 'no wrk'}, PostgreSQL jit {machine.get('jit', '?')}; "
        "load average at start "
        f"{' '.join(machine.get('loadavg', [])) or '?'}.",
        "",
        f"Pool: {_num(pool.get('projects'))} projects, {_num(pool.get('partners'))} partners. "
        f"Load: `gunicorn {settings.get('gunicorn', '?')}`; latency with 1 connection, "
        f"throughput with {settings.get('concurrency', '?')}; each run at most "
        f"{settings.get('requests', '?')} requests and {settings.get('duration_s', '?')} s. "
        f"Auth: {settings.get('auth', '?')}.",
    ]
    seed = results.get("seed")
    if seed:
        lines += [
            "",
            f"Seeded in this run: {_num(seed.get('projects'))} projects and "
            f"{_num(seed.get('partners'))} partners in {seed.get('total_seconds')} s "
            f"({', '.join(f'{t} {v["seconds"]} s' for t, v in seed['tables'].items())}).",
        ]
    lines += [
        "",
        "| call | API p50 / p95 / p99 (ms) | req/s | SQL floor p50 (ms) | API ÷ SQL "
        "| in process, cold / warm (ms) | queries, warm / cold | page query uses |",
        "|---|---|---|---|---|---|---|---|",
    ]
    sql = results.get("sql", {})
    for name, entry in results.get("calls", {}).items():
        floor = sql.get("list" if name == "baseline_list" else name, {})
        latency = entry.get("latency")
        explain = entry.get("explain")
        if explain:
            uses = ", ".join(explain["indexes"]) or "no index"
            if explain["seq_scans"]:
                uses += f"; reads whole: {', '.join(explain['seq_scans'])}"
        else:
            uses = ""
        if latency:
            api = f"{latency['p50']} / {latency['p95']} / {latency['p99']}"
            rps = _num(_get(entry, "throughput", "rps"))
            errors = (latency.get("errors") or 0) + (_get(entry, "throughput", "errors") or 0)
            if errors:
                rps += f" ({errors} errors)"
        else:
            reason = entry.get("failed") or entry.get("skipped", "no load run")
            api, rps = f"not measured: {reason}", "—"
        in_process = entry.get("in_process_ms") or {}
        lines.append(
            f"| {entry['label']} | {api} | {rps} | {_num(floor.get('p50'))} "
            f"| {_num(entry.get('ratio_sql'), TIMES)} "
            f"| {_num(in_process.get('cold'))} / {_num(in_process.get('warm'))} "
            f"| {_num(entry.get('queries'))} / {_num(entry.get('queries_cold'))} | {uses} |"
        )
    if "stats_by_status" in sql:
        lines.append(
            f"| (raw GROUP BY status, for reference) | | | {_num(sql['stats_by_status']['p50'])} "
            "| | | 1 | |"
        )
    export = results.get("export", {})
    floor = export.get("sql", {})
    if "seconds" in export:
        text = (
            f"CSV export of the whole pool: {_num(export['rows'])} rows, "
            f"{export['bytes'] / 1e6:.1f} MB in {export['seconds']} s (first byte "
            f"{export['first_byte_s']} s); worker RSS {export['rss_before_mb']} MB before, "
            f"peak {export['peak_rss_mb']} MB."
        )
    else:
        text = f"CSV export: skipped, {export.get('skipped', 'not run')}."
    if floor:
        text += (
            f" Floor (COPY of the same rows to the client): {floor['bytes'] / 1e6:.1f} MB in "
            f"{floor['seconds']} s."
        )
    lines += ["", text, "", "| target (issue 7) | measured | met |", "|---|---|---|"]
    for label, measured, met in targets(results):
        mark = "not measured" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {label} | {measured} | {mark} |")
    for note in results.get("notes", []):
        lines += ["", f"Note: {note}"]
    return "\n".join(lines)


def update_readme(results: dict) -> None:
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{README} lacks the markers {START} / {END}")
    block = f"{START}\n<!-- generated by `python -m bench`; do not edit by hand -->\n\n"
    block += render(results) + f"\n\n{END}"
    text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    README.write_text(text, encoding="utf-8")
