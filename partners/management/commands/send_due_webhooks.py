from django.core.management.base import BaseCommand

from partners.webhooks.services import send_due


class Command(BaseCommand):
    help = (
        "Attempt every webhook delivery whose retry is due. Needed only with a task backend "
        "that cannot defer (the immediate one) or after the worker was down; run it every "
        "minute from the scheduler."
    )

    def handle(self, *args, **options):
        count = send_due()
        self.stdout.write(f"{count} due deliveries attempted.")
