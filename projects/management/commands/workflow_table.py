from django.core.management.base import BaseCommand
from django.utils import translation

from projects.workflow import editable_markdown_table, markdown_table


class Command(BaseCommand):
    help = (
        "Print the workflow's transition table and its editable-fields table as markdown "
        "(for the README)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--table",
            choices=["all", "transitions", "editable"],
            default="all",
            help="Which table to print.",
        )

    def handle(self, *args, **options):
        tables = []
        if options["table"] in {"all", "transitions"}:
            tables.append(markdown_table())
        if options["table"] in {"all", "editable"}:
            # The README is in English.
            with translation.override("en"):
                tables.append(editable_markdown_table())
        self.stdout.write("\n\n".join(tables))
