"""Request rates per user and per token (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]).

A token holder is limited twice: per token (a leaked token cannot starve the others of
the same user) and per user (many tokens do not multiply the user's allowance)."""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from registry.models import ApiToken


class _SettingsRateMixin:
    # DRF reads the rates once at import; reading them per request lets settings change.
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class UserThrottle(_SettingsRateMixin, SimpleRateThrottle):
    scope = "user"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class TokenThrottle(_SettingsRateMixin, SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class AnonThrottle(_SettingsRateMixin, AnonRateThrottle):
    pass
