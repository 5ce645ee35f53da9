"""Settings for the registry, read from the environment (one module, no exec'd files).

DATABASE_URL   unset: SQLite file in the project folder; postgres://…: PostgreSQL (psycopg 3)
SECRET_KEY     must be set in production (a local-only key is used otherwise)
DEBUG          "1"/"true" turns on debug pages; off by default
ALLOWED_HOSTS  comma-separated host names
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from registry.email_url import registry_mailer

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
    "django_tasks_db",
    "axes",
    "registry",
    "registry.jobs",
    "partners",
    "projects",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the session middleware: it sees the session cookie a login sets.
    "registry.replica.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "registry.language.ForeignBrowserMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Before the API's views authenticate: refuses (429) an address that has had too many
    # 401s (bad tokens, anonymous requests) in a while.
    "registry.security.UnauthenticatedRequestLimitMiddleware",
    # Puts every statement of the request under REGISTRY_STATEMENT_TIMEOUT; 503 with
    # Retry-After, not a 500, when one runs past it or a write cannot get the lock.
    "registry.security.DatabaseBusyMiddleware",
    # Last, as django-axes asks: locks a username + address after failed logins on any
    # login form that goes through django.contrib.auth (admin, API log-in, portal).
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First, as django-axes asks: refuses a locked-out username + address before the
    # password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (runserver threads, tests) wait instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )

# DATABASE_REPLICA_URL: a read replica (a PostgreSQL hot standby) for the reads of GET
# requests (registry.replica). In tests it mirrors the primary; the replica tests point
# it at the real standby.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"].setdefault("OPTIONS", {}).update(DATABASES["default"].get("OPTIONS", {}))
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["registry.replica.ReplicaRouter"]
# Seconds a client that wrote keeps reading from the primary (read your own writes).
REGISTRY_READ_YOUR_WRITES_SECONDS = int(os.environ.get("REGISTRY_READ_YOUR_WRITES_SECONDS", "5"))
# Seconds a statement of a web request may run before the database stops it and the
# request is answered 503 (registry.timeouts); 0 turns the limit off. Commands, the task
# worker and migrations never have it.
REGISTRY_STATEMENT_TIMEOUT = max(0.0, float(os.environ.get("STATEMENT_TIMEOUT", "5")))
# The same for writes (POST, PUT, PATCH, DELETE); 0, the default, leaves them unlimited:
# stopping one loses the user's change, and saving the largest accepted summary (20,000
# characters) ran one statement past 30 s on PostgreSQL on a loaded 2-core machine.
REGISTRY_WRITE_STATEMENT_TIMEOUT = max(0.0, float(os.environ.get("WRITE_STATEMENT_TIMEOUT", "0")))

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
# The language switch's choice outlives the browser session (the portal, the admin).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
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

# --- Email: EMAIL_URL=smtp://user:password@host:587?tls=1 (smtp+ssl:// for implicit TLS)
# or console://; the console under DEBUG (`make run`) when EMAIL_URL is unset.
MAILERS = {"default": registry_mailer(os.environ.get("EMAIL_URL", "console://" if DEBUG else ""))}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "registry@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# History is append-only: reverting would write old values (status included) around the
# workflow services.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Production hardening; `manage.py check --deploy` passes when DEBUG is off.
# TRUSTED_PROXY=1 says a proxy that sets X-Forwarded-Proto and X-Forwarded-For (and
# removes what clients send in them) is in front. Without it those headers are the
# client's own words: trusting them would let anyone claim HTTPS or another address.
TRUSTED_PROXY = env_bool("TRUSTED_PROXY")
if TRUSTED_PROXY:
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
# Content-Security-Policy on every response (Django's own middleware): scripts only from
# this site's files, never inline, nothing from elsewhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    # Inline styles are allowed (never scripts): DRF's browsable API, simple-history's
    # admin page and Swagger UI set style attributes, which no nonce can cover.
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Login lockout (django-axes): a username + address is locked for AXES_COOLOFF_TIME after
# AXES_FAILURE_LIMIT failed logins; the lockout page is translated (registry.security).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.5"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "registry.security.lockout_response"
AXES_VERBOSE = False
if TRUSTED_PROXY:
    # The client address is the one the proxy appends to X-Forwarded-For.
    AXES_IPWARE_PROXY_COUNT = 1
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")

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
# Lists longer than this are not counted row by row: their `count` is the planner's
# estimate, marked as one (registry.counting; PostgreSQL only, SQLite counts exactly).
REGISTRY_EXACT_COUNT_LIMIT = int(os.environ.get("REGISTRY_EXACT_COUNT_LIMIT", "10000"))
# The same for the admin's changelists ("about N" above it).
REGISTRY_ADMIN_EXACT_COUNT_LIMIT = int(os.environ.get("REGISTRY_ADMIN_EXACT_COUNT_LIMIT", "1000"))
# Reference rows named by a filter and the partners a search word matches are cached
# until their own tables next change (registry.freshness; PostgreSQL only).
# REGISTRY_RESULT_CACHE=0 looks them up on every request.
REGISTRY_RESULT_CACHE = env_bool("REGISTRY_RESULT_CACHE", True)

# REDIS_URL set: one cache shared by every process on every machine (the result caches
# and the API throttle counters), so a figure computed by one web server is reused by the
# others and a throttle budget is not multiplied by the number of processes. Unset: per
# process (LocMem), enough for one machine; cached lookups carry their tables' versions in
# their keys, so per-process caches never disagree about the data.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "registry",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "registry",
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
# Job progress, heartbeats and cancel requests pass between the web servers and the
# workers: Redis when there is one, else files that every process on this machine sees.
CACHES["jobs"] = (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    | {"KEY_PREFIX": "registry-jobs"}
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.environ.get("REGISTRY_JOB_CACHE_DIR", str(BASE_DIR / "var" / "job-cache")),
    }
)

# --- Background work (django.tasks) -------------------------------------------------------
# The database backend: tasks wait in a table of the same database, `manage.py db_worker`
# runs them (`make run` starts one; production runs as many as needed). Tests use the
# immediate backend (tests/conftest.py).
TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]},
}
# Files built by jobs (exports, the IATI file), kept 24 hours; STORAGES["jobs"] wins.
REGISTRY_JOB_FILES_DIR = os.environ.get("REGISTRY_JOB_FILES_DIR", str(BASE_DIR / "var" / "jobs"))
# A running job whose worker has not beaten for this long is marked failed.
REGISTRY_JOB_STALE_SECONDS = int(os.environ.get("REGISTRY_JOB_STALE_SECONDS", "120"))
# Above these sizes an import preview, an export or the IATI file is built by a worker.
REGISTRY_BACKGROUND_ROWS = int(os.environ.get("REGISTRY_BACKGROUND_ROWS", "3000"))
# Enqueued once a day by `manage.py scheduler`.
REGISTRY_DAILY_TASKS = [
    "registry.jobs.tasks.housekeeping",
    "projects.tasks.overdue_reviews",
]

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
        # Requests answered 401 (bad or missing credentials) per client address; past it
        # every API request from that address gets 429 until the window moves on.
        "unauthenticated": os.environ.get("API_RATE_UNAUTHENTICATED", "30/minute"),
    },
    "EXCEPTION_HANDLER": "registry.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Page names in the browsable API in the request's language, not from class names.
    "VIEW_NAME_FUNCTION": "registry.api.naming.view_name",
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
        "ResultTypeEnum": "projects.results.models.Result.Type",
        # The GeoJSON members' fixed "type" values (projects/sites/serializers.py).
        "GeoJSONPointTypeEnum": ["Point"],
        "GeoJSONFeatureTypeEnum": ["Feature"],
        "GeoJSONFeatureCollectionTypeEnum": ["FeatureCollection"],
    },
    # What the server refuses, the schema forbids; what a role may not read is optional.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "registry.api.schema.closed_request_bodies",
        "registry.api.schema.page_parameters_and_answers",
        "registry.api.schema.every_error_documented",
        "registry.api.schema.codes_and_query_values",
        "projects.api.schema.staff_only_fields_optional",
        "projects.api.schema.geojson_filters_as_the_list",
    ],
}

# --- Partner portal and webhooks (partners/portal, partners/webhooks) ------------------

# Where the registry is reached from outside: links in emails and webhook bodies.
REGISTRY_BASE_URL = os.environ.get("REGISTRY_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Webhook URLs resolving to private, loopback or link-local addresses are refused unless
# this is on (tests and a local receiver on the same machine).
REGISTRY_WEBHOOK_ALLOW_PRIVATE = env_bool("REGISTRY_WEBHOOK_ALLOW_PRIVATE")
# http:// webhook URLs are accepted only under DEBUG unless this is on.
REGISTRY_WEBHOOK_ALLOW_HTTP = env_bool("REGISTRY_WEBHOOK_ALLOW_HTTP", DEBUG)
REGISTRY_WEBHOOK_TIMEOUT = float(os.environ.get("REGISTRY_WEBHOOK_TIMEOUT", "10"))
# A receiver's answer is read up to this many bytes, then the connection is dropped.
REGISTRY_WEBHOOK_MAX_RESPONSE_BYTES = 64 * 1024
# First retry after this many seconds, doubling each time, for REGISTRY_WEBHOOK_RETRY_HOURS.
REGISTRY_WEBHOOK_RETRY_BASE_SECONDS = int(os.environ.get("REGISTRY_WEBHOOK_RETRY_BASE", "60"))
REGISTRY_WEBHOOK_RETRY_HOURS = 24

# Risk early warning (projects.risk.warnings): days without a progress update while in
# progress, days a dispute may stay open, and the share of a target under which a closed
# period's actual raises a warning.
REGISTRY_WARNING_NO_PROGRESS_DAYS = int(os.environ.get("REGISTRY_WARNING_NO_PROGRESS_DAYS", "90"))
REGISTRY_WARNING_DISPUTE_DAYS = int(os.environ.get("REGISTRY_WARNING_DISPUTE_DAYS", "180"))
REGISTRY_WARNING_TARGET_SHARE = os.environ.get("REGISTRY_WARNING_TARGET_SHARE", "0.8")
