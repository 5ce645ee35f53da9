"""Benchmark: peak RSS of importing the largest XLSX the import accepts (a preview, as
an upload does: read, check every row, write nothing).

The file has REGISTRY_IMPORT_MAX_ROWS rows with summaries long enough that its sheet
unpacks to just under REGISTRY_IMPORT_MAX_UNPACKED_BYTES, so every limit is nearly
reached at once.

    DATABASE_URL=sqlite:////tmp/bench-import.sqlite3 \\
        .venv/bin/python bench/import_largest_xlsx.py

Migrates the database it is given and loads reference data: use a scratch database.
"""

import io
import resource
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.import_projects import COUNTRIES, setup_actor
from projects.importing.projects import import_projects
from projects.importing.template import PROJECT_COLUMNS
from registry.importing import formats
from registry.importing.formats import read_table


def largest_file(unit, partners) -> bytes:
    from openpyxl import Workbook

    rows = formats.max_rows()
    budget = formats.max_unpacked_bytes() * 0.66
    # Each row's XML costs about its text plus ~60 bytes of markup per cell.
    per_row = int(budget / rows) - 60 * len(PROJECT_COLUMNS) - 200
    summary_chars = max(10, per_row // 3)  # Chinese: 3 bytes per character in UTF-8
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([c.header for c in PROJECT_COLUMNS])
    for n in range(rows):
        values = {
            "title_zh": f"基准项目{n:05d}",
            "title_en": f"Benchmark project {n:05d}",
            "lead_unit": unit.name_zh,
            "countries": f"{COUNTRIES[n % len(COUNTRIES)]}:100",
            "partners": f"{partners[n % len(partners)].name_zh}:partner",
            "summary_zh": ("陆海新通道冷链物流" * (summary_chars // 9 + 1))[:summary_chars],
            "currency": "CNY",
        }
        sheet.append([values.get(c.key, "") for c in PROJECT_COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def main():
    user, unit, partners = setup_actor()
    data = largest_file(unit, partners)
    unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    table = read_table(data, "largest.xlsx")
    read_done = time.perf_counter()
    report = import_projects(table, actor=user, commit=False)
    finished = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(
        f"file: {len(data) / 1024 / 1024:.1f} MB packed, {unpacked / 1024 / 1024:.1f} MB "
        f"unpacked (limit {formats.max_unpacked_bytes() / 1024 / 1024:.0f} MB), "
        f"{len(table.rows)} rows (limit {formats.max_rows()})"
    )
    print(f"errors: {len(report.errors)}; to create: {report.created}")
    print(f"read: {read_done - started:.1f} s; preview: {finished - read_done:.1f} s")
    print(f"peak RSS before the file was read: {before:.0f} MB; peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
