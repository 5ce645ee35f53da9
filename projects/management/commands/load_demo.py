from django.core.management.base import BaseCommand

from projects.demo import load_demo


class Command(BaseCommand):
    help = (
        "Load the demonstration institutions and projects (fixtures/demo/) and move each "
        "project to its sample status through the workflow. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--drafts-only",
            action="store_true",
            help="Create missing projects as drafts and take no workflow steps.",
        )

    def handle(self, *args, drafts_only=False, **options):
        report = load_demo(drafts_only=drafts_only)
        self.stdout.write(
            f"Demo data: {report.partners_created} institutions and "
            f"{report.projects_created} projects created, "
            f"{report.steps_taken} workflow steps taken, {report.sites_created} sites added."
        )
        if report.users_created:
            self.stdout.write("Demo users created (run `manage.py demo_users` for a table):")
            for username, role, password in report.users_created:
                self.stdout.write(f"  {username} ({role}): {password}")
