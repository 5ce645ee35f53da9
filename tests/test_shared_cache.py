"""REDIS_URL: every process shares one cache (result caches and throttle counters)."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.db import connection

from tests.redis_support import database_url, redis_or_skip

ROOT = Path(__file__).resolve().parent.parent


def run_process(env: dict, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tests.processes.cache_client", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def process_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="registry.settings", API_RATE_ANON="5/minute", **extra)
    return env


def test_two_processes_share_one_throttle_budget_and_cached_figures(db):
    redis_url = redis_or_skip()
    env = process_env(REDIS_URL=redis_url, DATABASE_URL=database_url(connection))
    ip = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    key = secrets.token_hex(8)

    first = run_process(env, ip, "3", key, "computed by the first process")
    second = run_process(env, ip, "3", key, "computed by the second process")

    assert first["backend"] == second["backend"] == "RedisCache"
    # 5 requests a minute for this client, whichever process answers: 3 + 2, then refused.
    assert first["allowed"] == [True, True, True]
    assert second["allowed"] == [True, True, False]
    if connection.vendor == "postgresql":
        # Lookup caching needs PostgreSQL's table versions (registry.freshness).
        assert first["computed"] is True
        assert second == {**second, "figure": "computed by the first process", "computed": False}


def test_without_redis_each_process_has_its_own_budget(db):
    env = process_env(DATABASE_URL=database_url(connection))
    ip = "10.255.255.1"
    first = run_process(env, ip, "3", secrets.token_hex(8), "a")
    second = run_process(env, ip, "3", secrets.token_hex(8), "b")
    assert first["backend"] == "LocMemCache"
    # Per process: the budget starts again in each process (why REDIS_URL matters).
    assert first["allowed"] == second["allowed"] == [True, True, True]
