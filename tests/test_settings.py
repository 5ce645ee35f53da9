import json
import os
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "SECRET_KEY": "a-production-secret-" + "x7Q2" * 12,
    "SECURE_SSL_REDIRECT": "1",
    "ALLOWED_HOSTS": "registry.example.org",
    "DEBUG": "0",
}


def check_deploy(**env):
    environment = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_check_deploy_passes_with_production_settings():
    result = check_deploy(**PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_check_deploy_fails_without_a_secret_key():
    result = check_deploy(**{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "security.W009" in result.stderr


def database_options(**env) -> dict:
    """The default database's OPTIONS as the settings module builds them under `env`."""
    environment = {**os.environ, **env}
    code = (
        "import json, registry.settings as s; "
        "print(json.dumps(s.DATABASES['default'].get('OPTIONS', {})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_no_statement_is_prepared_whatever_the_environment_says():
    """The list page is built by the ORM on each request: psycopg prepares nothing (a
    pooler in transaction mode needs no setting), and the retired
    REGISTRY_PREPARED_PAGES switches nothing back on."""
    postgres = "postgres://postgres@127.0.0.1:5432/registry"
    assert "prepare_threshold" not in database_options(DATABASE_URL=postgres)
    assert "prepare_threshold" not in database_options(
        DATABASE_URL=postgres, REGISTRY_PREPARED_PAGES="1"
    )
    assert database_options(DATABASE_URL=postgres)["options"] == "-c jit=off"


def test_the_web_requests_statement_timeout_comes_from_the_environment():
    def read(**env) -> str:
        environment = {k: v for k, v in os.environ.items() if k != "STATEMENT_TIMEOUT"}
        environment.update(env)
        code = "import registry.settings as s; print(s.REGISTRY_STATEMENT_TIMEOUT)"
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=settings.BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    assert read() == "5.0"
    assert read(STATEMENT_TIMEOUT="2.5") == "2.5"
    assert read(STATEMENT_TIMEOUT="0") == "0.0"
