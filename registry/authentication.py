"""API tokens: issuing, revoking, and the `Authorization: Bearer <token>` scheme.

A token is `reg_` followed by 40 random URL-safe characters. The database keeps its
SHA-256 and its first characters (to tell tokens apart), never the secret itself.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import OperationalError, connection
from django.db.models import StringAgg, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from registry.models import TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS, ApiToken

TOKEN_PREFIX = "reg_"
KEY_PREFIX_LENGTH = 10
# last_used_at is written at most this often per token, so reads stay reads (and a GET
# does not wait for SQLite's write lock more than once in this interval).
LAST_USED_PRECISION = timedelta(minutes=5)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(*, user, name: str, days: int = TOKEN_DEFAULT_DAYS) -> tuple[ApiToken, str]:
    """Create a token for `user` valid for `days` (1 to TOKEN_MAX_DAYS) and return it with
    its secret (shown once, not stored)."""
    if days is None:
        days = TOKEN_DEFAULT_DAYS
    if not 1 <= days <= TOKEN_MAX_DAYS:
        raise ValueError(f"days must be between 1 and {TOKEN_MAX_DAYS}")
    if not user.is_active:
        raise ValueError("an inactive user cannot be given a token")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_prefix=secret[:KEY_PREFIX_LENGTH],
        key_hash=hash_secret(secret),
        expires_at=timezone.now() + timedelta(days=days),
    )
    return token, secret


def revoke_tokens(tokens) -> int:
    """Revoke the given tokens (a queryset); already revoked ones keep their date."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def record_last_use(token: ApiToken, now) -> None:
    """Write the token's last use, unless that would make the request wait: on SQLite
    a writer holding the lock (an import) would make a plain GET wait for it and then
    fail. The date is a hint; the next request past LAST_USED_PRECISION writes it."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        return
    timeout_ms = int(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5) * 1000)
    with connection.cursor() as cursor:
        # PRAGMA busy_timeout is SQLite's own per-connection wait; 0 = do not wait.
        cursor.execute("PRAGMA busy_timeout = 0")
        try:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        except OperationalError:
            pass
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")


# Joins group names in one string; a character no group name holds.
ROLE_SEPARATOR = "\x1f"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header: give 'Bearer' and the token.")
            )
        try:
            secret = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        # The user's group names come with the token (one query instead of two per
        # request); `projects.access.user_roles` reads them from the user.
        token = (
            ApiToken.objects.select_related("user")
            .annotate(role_names=StringAgg("user__groups__name", Value(ROLE_SEPARATOR)))
            .filter(key_hash=hash_secret(secret))
            .first()
        )
        now = timezone.now()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        if not token.is_usable(now):
            raise exceptions.AuthenticationFailed(_("This token has expired."))
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            record_last_use(token, now)
        names = token.role_names
        token.user._registry_roles = frozenset(names.split(ROLE_SEPARATOR) if names else ())
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to unauthenticated requests.
        return f'{self.keyword} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "registry.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": str(
                _(
                    "An API token issued with `manage.py issue_token USERNAME`, sent as "
                    "`Authorization: Bearer <token>`."
                )
            ),
        }
