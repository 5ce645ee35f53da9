from django.core.management.base import BaseCommand

from registry.reference import load_reference


class Command(BaseCommand):
    help = "Load or refresh countries, country groups and sectors (safe to run again)."

    def handle(self, *args, **options):
        report = load_reference()
        created = ", ".join(f"{n} {m}" for m, n in report.created.items()) or "nothing"
        updated = ", ".join(f"{n} {m}" for m, n in report.updated.items()) or "nothing"
        self.stdout.write(f"Reference data: created {created}; updated {updated}.")
