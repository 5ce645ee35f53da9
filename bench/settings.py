"""The registry's own settings plus the bench-only baseline URLs.

Serves `/bench/baseline/projects/` next to the real app, and lifts the API's throttle
rates (keeping the throttles themselves, so their cost stays in the measurement) so that
a load run measures speed, not the rate limit.
"""

from registry import settings as _registry_settings

globals().update(
    {name: value for name, value in vars(_registry_settings).items() if name.isupper()}
)

ROOT_URLCONF = "bench.urls"

REST_FRAMEWORK = dict(getattr(_registry_settings, "REST_FRAMEWORK", {}))
if REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES"):
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(
        REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "1000000/second"
    )
