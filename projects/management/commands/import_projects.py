"""manage.py import_projects FILE [--commit] [--user USERNAME] [--encoding …] [--create-partners]

A dry run by default: every row is run and rolled back, and the report says what a
commit would do. Exit code 1 when the file has errors (nothing is written then).
"""

from projects.importing.projects import import_projects
from registry.importing.command import ImportCommand


class Command(ImportCommand):
    help = "Import projects from a CSV or XLSX file (dry run unless --commit)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--create-partners",
            action="store_true",
            help="create partners named in the file that are not in the registry yet",
        )

    def run_import(self, table, user, options):
        return import_projects(
            table,
            actor=user,
            commit=options["commit"],
            create_partners=options["create_partners"],
            progress=self.progress,
        )
