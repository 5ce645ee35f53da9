"""Settings for the registry, read from the environment (one module, no exec'd files).

DATABASE_URL   unset: SQLite file in the project folder; postgres://…: PostgreSQL (psycopg 3)
SECRET_KEY     must be set in production (a local-only key is used otherwise)
DEBUG          "1"/"true" turns on debug pages; off by default
ALLOWED_HOSTS  comma-separated host names
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
# Without SECRET_KEY a local key is used; its "django-insecure-" prefix makes
# `manage.py check --deploy` fail, so a production deployment cannot forget to set one.
SECRET_KEY = os.environ.get("SECRET_KEY") or "django-insecure-local-only-" + "k" * 40

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "registry",
    "partners",
    "projects",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "registry" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short OLTP queries: JIT compilation costs more than it saves (seconds on a search).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    if env_bool("REGISTRY_PREPARED_PAGES", True):
        # Lets psycopg prepare the statements asked for (the list page's, planned once per
        # connection: projects.api.listing); the threshold is never reached by anything
        # else. Off behind a pooler that cannot keep prepared statements.
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 2**31 - 1)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (runserver threads, tests) wait instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "registry" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "admin:login"

# History is append-only: reverting would write old values (status included) around the
# workflow services.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Production hardening; `manage.py check --deploy` passes when DEBUG is off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind a TLS-terminating proxy set SECURE_SSL_REDIRECT=1 (check --deploy asks for it).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Request size limits (the API refuses larger bodies with 413/400).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# --- The registry's own settings -------------------------------------------------------

# The country whose institutions count as domestic (lead units must be domestic).
REGISTRY_HOME_COUNTRY = "CN"
# Reviews a project needs before it can be selected.
REGISTRY_MIN_REVIEWS = int(os.environ.get("REGISTRY_MIN_REVIEWS", "2"))
# Months between periodic re-reviews of a selected project.
REGISTRY_REVIEW_INTERVAL_MONTHS = int(os.environ.get("REGISTRY_REVIEW_INTERVAL_MONTHS", "12"))
# Screening criteria and their weights (a review's weighted score is sum(score*weight)/sum(w)).
REGISTRY_REVIEW_WEIGHTS = {
    "strategic_fit": 3,
    "supply_chain_linkage": 3,
    "feasibility": 2,
    "partner_capacity": 2,
    "regional_balance": 1,
    "risk": 1,
}
# Target share of people-to-people sectors (culture, tourism, education…) in the pool.
REGISTRY_PEOPLE_TO_PEOPLE_TARGET = float(os.environ.get("REGISTRY_PEOPLE_TO_PEOPLE_TARGET", "0.20"))
# The reporting organisation for IATI publication (org-id form).
REGISTRY_IATI_REPORTING_ORG_REF = os.environ.get("REGISTRY_IATI_REPORTING_ORG_REF", "CN-GXFAO")

# Memory for the sorts and hashes of the one statement behind the stats figures
# (PostgreSQL's work_mem, for that statement only).
REGISTRY_STATS_WORK_MEM = os.environ.get("REGISTRY_STATS_WORK_MEM", "128MB")
# Exact list counts and stats figures are cached until the data next changes
# (registry.freshness; PostgreSQL only). REGISTRY_RESULT_CACHE=0 always recomputes them.
REGISTRY_RESULT_CACHE = env_bool("REGISTRY_RESULT_CACHE", True)

# Per process: cached results carry the data generation in their keys, so processes
# share nothing but the database. API throttling counts here too.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "registry",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
}

# --- REST API (/api/v1/) ------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer first: unauthenticated requests get 401 with WWW-Authenticate.
        "registry.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "registry.api.renderers.RegistryBrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["registry.api.parsers.LimitedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["registry.api.filters.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "registry.api.pagination.PagePagination",
    "DEFAULT_THROTTLE_CLASSES": [
        "registry.api.throttling.AnonThrottle",
        "registry.api.throttling.UserThrottle",
        "registry.api.throttling.TokenThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_RATE_ANON", "60/minute"),
        "user": os.environ.get("API_RATE_USER", "3000/minute"),
        "token": os.environ.get("API_RATE_TOKEN", "1200/minute"),
    },
    "EXCEPTION_HANDLER": "registry.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
API_MAX_PAGE_SIZE = 100

SPECTACULAR_SETTINGS = {
    "TITLE": "Registry API",
    "DESCRIPTION": (
        "The international cooperation project pool. Authenticate with "
        "`Authorization: Bearer <token>` (issued by `manage.py issue_token`) or a session. "
        'Errors: `{"error": {"code", "message", "fields"}}`, message in the '
        "Accept-Language of the request (zh-hans or en). Writes to a project need "
        "`If-Match` with its ETag."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ProjectKindEnum": "projects.models.Kind",
        "PartnerKindEnum": "partners.models.Partner.Kind",
        "SupportKindEnum": "projects.models.SupportDecision.Kind",
        "CountryGroupKindEnum": "registry.models.CountryGroup.Kind",
        "ProjectStatusEnum": "projects.models.Status",
    },
}
