import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from projects.models import Project


class Command(BaseCommand):
    help = "List selected and in-progress projects whose periodic review is overdue."

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            help="Count overdue days as of this date (YYYY-MM-DD); default: today.",
        )

    def handle(self, *args, today=None, **options):
        if today:
            try:
                today = datetime.date.fromisoformat(today)
            except ValueError:
                raise CommandError(f"--today: not a date: {today!r}") from None
        else:
            today = timezone.localdate()
        projects = Project.objects.review_overdue(today).order_by("next_review_due", "code")
        count = 0
        for project in projects.iterator():
            count += 1
            days = (today - project.next_review_due).days
            self.stdout.write(
                f"{project.code}\t{project.title}\t{project.next_review_due.isoformat()}\t{days}"
            )
        self.stderr.write(f"{count} project(s) overdue for review as of {today.isoformat()}.")
