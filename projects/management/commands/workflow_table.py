from django.core.management.base import BaseCommand

from projects.workflow import markdown_table


class Command(BaseCommand):
    help = "Print the workflow's transition table as markdown (for the README)."

    def handle(self, *args, **options):
        self.stdout.write(markdown_table())
