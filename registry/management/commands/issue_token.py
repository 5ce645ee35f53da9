from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.authentication import TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS, issue_token


class Command(BaseCommand):
    help = "Issue an API token for a user and print it once (it is stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="api", help="what the token is for")
        parser.add_argument(
            "--days",
            type=int,
            default=TOKEN_DEFAULT_DAYS,
            help=f"expires after D days (default {TOKEN_DEFAULT_DAYS}, at most {TOKEN_MAX_DAYS})",
        )

    def handle(self, *args, username, name, days, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is not active.")
        if not 1 <= days <= TOKEN_MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {TOKEN_MAX_DAYS}.")
        token, secret = issue_token(user=user, name=name, days=days)
        expiry = token.expires_at.isoformat()
        self.stderr.write(
            f"Token {token.name!r} for {username} (expires: {expiry}). "
            "It is shown only now; store it safely."
        )
        self.stdout.write(secret)
