from django.core.management.base import BaseCommand

from projects.notifications.services import daily_digest


class Command(BaseCommand):
    help = (
        "Tell managers of the projects submitted in the last 24 hours and the overdue "
        "periodic reviews (a notice and an email each; nothing on a quiet day). Run daily."
    )

    def handle(self, *args, **options):
        count = daily_digest()
        self.stdout.write(f"{count} managers notified.")
