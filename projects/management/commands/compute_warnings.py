from django.core.management.base import BaseCommand

from projects.risk.tasks import compute_warnings_task
from projects.risk.warnings import compute_warnings


class Command(BaseCommand):
    help = "Bring the risk warnings in line with their causes (the daily job; idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="hand the job to the background worker instead of running it here",
        )

    def handle(self, *args, enqueue=False, **options):
        if enqueue:
            result = compute_warnings_task.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        for kind, counts in compute_warnings().items():
            self.stdout.write(
                f"{kind}: {counts['raised']} raised, {counts['resolved']} resolved, "
                f"{counts['kept']} kept"
            )
