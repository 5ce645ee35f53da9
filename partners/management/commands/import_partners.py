"""manage.py import_partners FILE [--commit] [--user USERNAME] [--encoding …]

Upserts partner institutions by org-id, else by Chinese name and country. A dry run by
default; exit code 1 when the file has errors (nothing is written then).
"""

from partners.importing import import_partners
from registry.importing.command import ImportCommand


class Command(ImportCommand):
    help = "Import partner institutions from a CSV or XLSX file (dry run unless --commit)."

    def run_import(self, table, user, options):
        return import_partners(table, actor=user, commit=options["commit"], progress=self.progress)
