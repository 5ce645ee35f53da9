"""One app process for tests/test_shared_cache.py: spends throttle budget and reads a
cached figure through the app's own settings, then prints what happened as JSON.

python -m tests.processes.cache_client IP REQUESTS KEY VALUE
"""

import json
import sys

import django

django.setup()

from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from registry import freshness  # noqa: E402
from registry.api.throttling import AnonThrottle  # noqa: E402


def main(ip: str, requests: str, key: str, value: str) -> None:
    request = RequestFactory().get("/api/v1/projects/", REMOTE_ADDR=ip)
    request.user = AnonymousUser()
    allowed = [AnonThrottle().allow_request(request, None) for _ in range(int(requests))]
    computed = []

    def compute():
        computed.append(True)
        return value

    # Cached under the version of a table whose lookups are cached (registry.freshness).
    figure = freshness.remember(("test-figure", key), compute, tables=["registry_sector"])
    print(
        json.dumps(
            {
                "backend": type(caches["default"]).__name__,
                "allowed": allowed,
                "figure": figure,
                "computed": bool(computed),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:5])
