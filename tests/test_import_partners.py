"""Importing partner institutions: upsert by org-id or (Chinese name, country), no-op
re-import, all or nothing, who may."""

import csv
import io

from partners.importing import PARTNER_COLUMNS, import_partners
from partners.models import Partner
from registry.importing.columns import template_csv, template_xlsx
from registry.importing.formats import read_table

HEADERS = [c.header for c in PARTNER_COLUMNS]


def csv_bytes(rows, headers=HEADERS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def partner_row(**values):
    defaults = {"name_zh": "万象商会", "kind": "chamber", "country": "LA"}
    defaults.update(values)
    return [defaults.get(c.key, "") for c in PARTNER_COLUMNS]


def run(data, actor, commit=True, name="partners.csv"):
    return import_partners(read_table(data, name), actor=actor, commit=commit)


def test_partner_templates_import(manager):
    for name, data in (
        ("t.csv", template_csv(PARTNER_COLUMNS, manager)),
        ("t.xlsx", template_xlsx(PARTNER_COLUMNS, manager)),
    ):
        report = run(data, manager, name=name)
        assert report.committed, [str(e) for e in report.errors]
    partner = Partner.objects.get(name_zh="老挝国家工商会")
    assert (partner.kind, partner.country_id) == ("chamber", "LA")
    assert partner.history.count() == 1  # the second import found it unchanged


def test_upsert_by_org_id_then_by_name_and_country(manager):
    org_id = "LA-ERS-0123"
    run(csv_bytes([partner_row(org_id=org_id, name_en="Vientiane Chamber")]), manager)
    partner = Partner.objects.get()
    # Renamed, matched by org-id.
    report = run(csv_bytes([partner_row(org_id=org_id, name_zh="万象工商会")]), manager)
    assert report.updated == 1
    partner.refresh_from_db()
    assert partner.name_zh == "万象工商会"
    # No org-id: matched by Chinese name and country; a same-named one in Thailand is new.
    report = run(
        csv_bytes(
            [
                partner_row(name_zh="万象工商会", org_id=org_id, website="https://vcc.la"),
                partner_row(name_zh="万象工商会", country="TH"),
            ]
        ),
        manager,
    )
    assert (report.updated, report.created) == (1, 1)
    assert Partner.objects.count() == 2
    assert partner.history.first().history_user == manager


def test_reimport_writes_no_history(manager):
    data = csv_bytes([partner_row(name_zh=f"机构{n}") for n in range(5)])
    run(data, manager)
    history = Partner.history.count()
    report = run(data, manager)
    assert report.unchanged == 5 and Partner.history.count() == history


def test_bad_row_writes_nothing(manager):
    rows = [partner_row(name_zh=f"机构{n}") for n in range(20)]
    rows[7] = partner_row(name_zh="坏", kind="bank?", org_id="not an id")
    report = run(csv_bytes(rows), manager)
    assert not report.committed and Partner.objects.count() == 0
    columns = sorted(e.column.split()[-1] for e in report.errors if e.row == 9)
    assert columns == ["kind"]
    rows[7] = partner_row(name_zh="坏", org_id="not an id")
    report = run(csv_bytes(rows), manager)
    assert [(e.row, e.column.split()[-1]) for e in report.errors] == [(9, "org_id")]


def test_same_institution_twice_in_one_file(manager):
    report = run(csv_bytes([partner_row(), partner_row()]), manager)
    assert not report.committed and report.errors[0].row == 3


def test_reviewer_and_partner_users_may_not_import(reviewer, partner_user):
    for user in (reviewer, partner_user):
        report = run(csv_bytes([partner_row()]), user)
        assert not report.committed and report.errors
    assert not Partner.objects.filter(name_zh="万象商会").exists()
