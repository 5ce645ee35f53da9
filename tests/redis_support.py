"""The Redis the shared-cache tests run against: REDIS_TEST_URL, or database 5 of the machine's
Redis on 127.0.0.1:6379 (CI starts it). Tests skip with the reason when it is down."""

import os

import pytest

TEST_REDIS_URL = os.environ.get("REDIS_TEST_URL") or "redis://127.0.0.1:6379/5"


def redis_or_skip() -> str:
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        pytest.skip(f"needs Redis at {TEST_REDIS_URL} (start redis-server; .ci/run does): {error}")
    return TEST_REDIS_URL


def database_url(connection) -> str:
    """The URL of the test database `connection` is on, for a child process."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"] or "postgres"
    host = f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    return f"postgres://{user}@{host}/{settings['NAME']}"
