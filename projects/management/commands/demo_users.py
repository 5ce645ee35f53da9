import os

from django.core.management.base import BaseCommand

from projects.demo import ensure_demo_users


class Command(BaseCommand):
    help = (
        "Create or update one demo user per role and give each a fresh random password, "
        "printed with how to log in. Safe to run again: nothing is duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}",
            help="Where the server will be reached (default: http://127.0.0.1:$PORT).",
        )

    def handle(self, *args, base_url, **options):
        rows = ensure_demo_users(reset_passwords=True)
        base_url = base_url.rstrip("/")
        width = max(len(username) for username, _, _ in rows)
        self.stdout.write("")
        self.stdout.write("Demo users (new passwords on every run):")
        self.stdout.write(f"  {'user'.ljust(width)}  {'role'.ljust(9)}  password")
        for username, role, password in rows:
            self.stdout.write(f"  {username.ljust(width)}  {role.ljust(9)}  {password}")
        self.stdout.write("")
        self.stdout.write(f"Admin (staff users):  {base_url}/admin/")
        self.stdout.write(
            f"Portal (demo-partner): {base_url}/portal/  - log in with demo-partner and the "
            "password above; API tokens and webhooks are under 'API tokens' / 'Webhooks'"
        )
        self.stdout.write(
            f"API:                  {base_url}/api/v1/  (Bearer token from the portal)"
        )
        self.stdout.write("Language: 中文 / English buttons at the top of every admin page.")
