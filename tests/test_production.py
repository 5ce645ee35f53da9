"""Two gunicorn instances and one worker sharing PostgreSQL and Redis, as in production.

An import started through one instance is followed to its end through the other; one
cancelled mid-run and one whose worker is killed mid-run leave the data as it was; a
token's throttle budget is one budget across both instances. PostgreSQL only (the
processes share the test database); bounded in time (every wait has a deadline)."""

import csv
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from projects.importing.template import PROJECT_COLUMNS
from projects.models import Project
from registry.authentication import issue_token
from tests.redis_support import database_url, redis_or_skip

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-test-password-0"
STALE_SECONDS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def stack(tmp_path):
    """{"a": url, "b": url, "worker": Popen, "start_worker": callable}; stopped at the end."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the processes share the test database")
    redis_url = redis_or_skip()
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"},
        "DJANGO_SETTINGS_MODULE": "registry.settings",
        "DATABASE_URL": database_url(connection),
        "REDIS_URL": redis_url,
        # Plain HTTP and no collectstatic: the admin pages as `make run` serves them.
        "DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_RATE_TOKEN": "6/minute",
        "REGISTRY_JOB_STALE_SECONDS": str(STALE_SECONDS),
        "REGISTRY_JOB_FILES_DIR": str(tmp_path / "files"),
        "CONN_MAX_AGE": "0",
    }
    processes = []
    logs = []

    def spawn(args, name):
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115
        logs.append(log)
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        processes.append(process)
        return process

    def start_worker():
        return spawn(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.3"],
            "worker",
        )

    urls = {}
    for name in ("a", "b"):
        port = free_port()
        spawn(
            [
                sys.executable, "-m", "gunicorn", "registry.wsgi", "--bind", f"127.0.0.1:{port}",
                "--workers", "2", "--timeout", "120", "--no-control-socket",
            ],
            name,
        )  # fmt: skip
        urls[name] = f"http://127.0.0.1:{port}"
    worker = start_worker()
    try:
        for url in urls.values():
            wait_until(
                lambda url=url: _answers(url + "/health/"), timeout=60, what=f"{url} to serve"
            )
        yield {**urls, "worker": worker, "start_worker": start_worker, "logs": tmp_path}
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for log in logs:
            log.close()


def _answers(url) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def import_file(rows: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.header for column in PROJECT_COLUMNS])
    values = {"lead_unit": "广西国际博览事务局", "countries": "LA"}
    for n in range(rows):
        values["title_zh"] = f"批量导入项目{n}"
        writer.writerow([values.get(column.key, "") for column in PROJECT_COLUMNS])
    return buffer.getvalue().encode("utf-8")


def log_in(url: str, username: str) -> requests.Session:
    session = requests.Session()
    session.headers["Accept-Language"] = "en"
    login = session.get(f"{url}/admin/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    done = session.post(
        f"{url}/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD},
        headers={"Referer": f"{url}/admin/login/"},
        timeout=30,
    )
    assert done.url.endswith("/admin/"), done.text[:500]
    return session


def start_import(session: requests.Session, url: str, rows: int) -> str:
    """Upload, preview (dry run, in the request), confirm: the job's id."""
    page = session.get(f"{url}/admin/projects/project/import/", timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    preview = session.post(
        f"{url}/admin/projects/project/import/",
        data={"csrfmiddlewaretoken": csrf, "encoding": "auto"},
        files={"file": ("projects.csv", import_file(rows), "text/csv")},
        headers={"Referer": page.url},
        timeout=120,
    )
    assert preview.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', preview.text).group(1)
    confirm = session.post(
        f"{url}/admin/projects/project/import/confirm/",
        data={"csrfmiddlewaretoken": csrf, "token": token},
        headers={"Referer": preview.url},
        allow_redirects=False,
        timeout=30,
    )
    assert confirm.status_code == 302, confirm.text[:500]
    return re.search(r"/admin/jobs/([0-9a-f-]{36})/", confirm.headers["Location"]).group(1)


def status(session, url, job_id) -> dict:
    response = session.get(f"{url}/api/v1/jobs/{job_id}/", timeout=30)
    assert response.status_code == 200, response.text[:300]
    return response.json()


def test_two_instances_one_worker(stack, officer, lead_unit, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    officer.set_password(PASSWORD)
    officer.save()
    a, b = stack["a"], stack["b"]
    on_a = log_in(a, officer.username)
    # The same session on the other instance: sessions live in the database.
    on_b = requests.Session()
    on_b.cookies.update(on_a.cookies)
    on_b.headers["Accept-Language"] = "en"

    # 1. Started through A, followed through B to its end.
    job_id = start_import(on_a, a, 1200)
    seen = []

    def finished():
        found = status(on_b, b, job_id)
        seen.append(found)
        return found["finished"] and found

    final = wait_until(finished, timeout=180, what="the import to finish")
    assert final["status"] == "succeeded", final
    assert final["done"] == final["total"] == 1200
    assert Project.objects.count() == 1200
    page = on_b.get(f"{b}/admin/jobs/{job_id}/", timeout=30)
    assert page.status_code == 200 and f"/api/v1/jobs/{job_id}/" in page.text

    # 2. Cancelled through B while it runs: nothing written.
    job_id = start_import(on_a, a, 3000)
    wait_until(
        lambda: status(on_b, b, job_id)["done"] > 0, timeout=120, what="the second import to start"
    )
    cancel = on_b.post(
        f"{b}/api/v1/jobs/{job_id}/cancel/",
        headers={"X-CSRFToken": on_b.cookies["csrftoken"], "Referer": f"{b}/admin/"},
        timeout=30,
    )
    assert cancel.status_code == 202, cancel.text[:300]
    final = wait_until(
        lambda: (s := status(on_b, b, job_id))["finished"] and s, timeout=120, what="the cancel"
    )
    assert final["status"] == "cancelled" and Project.objects.count() == 1200

    # 3. The worker killed mid-import: nothing written, the job failed with a reason.
    job_id = start_import(on_a, a, 3000)
    wait_until(
        lambda: status(on_b, b, job_id)["done"] > 0, timeout=120, what="the third import to start"
    )
    os.killpg(stack["worker"].pid, signal.SIGKILL)
    stack["worker"].wait(timeout=10)
    final = wait_until(
        lambda: (s := status(on_b, b, job_id))["finished"] and s,
        timeout=STALE_SECONDS * 5,
        what="the abandoned job to be marked failed",
    )
    assert final["status"] == "failed" and "stopped" in final["error"]
    assert Project.objects.count() == 1200
    # Another worker carries on with new jobs.
    stack["start_worker"]()
    job_id = start_import(on_a, a, 5)
    final = wait_until(
        lambda: (s := status(on_a, a, job_id))["finished"] and s, timeout=120, what="a new job"
    )
    assert final["status"] == "succeeded" and Project.objects.count() == 1205

    # 4. One throttle budget across the instances: 6 requests a minute for this token.
    _token, secret = issue_token(user=officer, name="throttle")
    headers = {"Authorization": f"Bearer {secret}"}
    codes = [
        requests.get(f"{(a, b)[n % 2]}/api/v1/countries/", headers=headers, timeout=30).status_code
        for n in range(8)
    ]
    assert codes == [200] * 6 + [429] * 2, codes


def test_daily_jobs_run_once_with_two_schedulers_and_two_workers(tmp_path):
    """Two schedulers enqueue the day's jobs at the same moment, two workers drain the
    queue: each daily job runs exactly once."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the processes share the test database")
    from django.conf import settings
    from django_tasks_db.models import DBTaskResult

    from registry.jobs.models import DailyRun, Job

    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"},
        "DJANGO_SETTINGS_MODULE": "registry.settings",
        "DATABASE_URL": database_url(connection),
        "REGISTRY_JOB_FILES_DIR": str(tmp_path / "files"),
        "REGISTRY_JOB_CACHE_DIR": str(tmp_path / "cache"),
    }

    def run_together(args):
        processes = [
            subprocess.Popen(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(2)
        ]
        # Bounded, with room for a loaded CI machine (the daily jobs include the warnings).
        outputs = [process.communicate(timeout=300)[0].decode() for process in processes]
        assert [process.returncode for process in processes] == [0, 0], outputs
        return outputs

    run_together(["scheduler", "--once"])
    daily = settings.REGISTRY_DAILY_TASKS
    assert DailyRun.objects.count() == Job.objects.count() == len(daily)
    assert DBTaskResult.objects.count() == len(daily)
    run_together(["db_worker", "--batch", "--no-reload", "--no-startup-delay"])
    assert set(Job.objects.values_list("status", flat=True)) == {"succeeded"}
    assert DBTaskResult.objects.successful().count() == len(daily)
    # Each task result names the one worker that ran it.
    assert all(len(r.worker_ids) == 1 for r in DBTaskResult.objects.all())
    run_together(["scheduler", "--once"])
    assert Job.objects.count() == len(daily)
