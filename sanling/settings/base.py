"""Settings read from the environment (django-environ), shared by every settings module.

With nothing set the portal runs on its embedded default: a SQLite file beside the
project and Celery tasks executed in-process. Set DATABASE_URL and REDIS_URL to run on
PostgreSQL with a Redis broker and real workers. Use one of: sanling.settings.dev
(manage.py's default; reads .env), sanling.settings.production (wsgi/asgi/celery's
default; refuses to start without its services) or sanling.settings.test (ignores .env).
"""

import re
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# No default here: production requires DJANGO_SECRET_KEY, development generates a key of
# its own checkout (settings.dev), the tests set theirs.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
# seed_demo may write demo accounts and data (never under the production settings).
DEMO_DATA_ALLOWED = True
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "pgtrigger",
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "simple_history",
    "axes",
    "units",
    "standards",
    "inspections",
    "reports",
    "supervision",
    "sanling",  # the top: management commands composed from the apps (seed_demo)
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
    "axes.middleware.AxesMiddleware",
    "sanling.kernel.csp.CSPMiddleware",
    "sanling.kernel.pages.PortalNotFoundMiddleware",
]

ROOT_URLCONF = "sanling.urls"
WSGI_APPLICATION = "sanling.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "supervision.context.notifications",
                "standards.context.menu",
                "units.access.capabilities",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# Reuse connections (a new PostgreSQL backend per request costs milliseconds); checked
# before reuse so a restarted database is reconnected transparently.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL's health check skips the `SELECT 1` round trip on an idle connection the server
# answered within a few seconds and that has nothing on its socket (sanling.kernel.postgresql.base)
POSTGRESQL_ENGINE = "sanling.kernel.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = POSTGRESQL_ENGINE
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a roll-up writes; wait rather than fail on a lock.
    # IMMEDIATE: a transaction takes the write lock when it begins, so two concurrent saves
    # queue (the second then meets the optimistic lock's conflict message) instead of one
    # failing with "database is locked" when it first writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
# A streaming replica of the primary (optional): the read-only views (dashboards, exports,
# attainment/ …) read from it while it answers and keeps up; writes, and a request's reads
# after its first write, go to the primary (sanling.kernel.replica, docs/deployment.md).
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    DATABASES["replica"].update(
        CONN_MAX_AGE=DATABASES["default"]["CONN_MAX_AGE"],
        CONN_HEALTH_CHECKS=True,
        # the tests have no replica of their own: the alias reads the test database
        TEST={"MIRROR": "default"},
    )
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["replica"]["ENGINE"] = POSTGRESQL_ENGINE
        # a replica that does not answer must not hold a request: fall back to the primary
        DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
DATABASE_ROUTERS = ["sanling.kernel.replica.ReplicaRouter"]
# the hottest hand-written reads are prepared once per connection (sanling.kernel.prepared);
# false behind a pooler in transaction mode, which does not keep a session's statements
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
# how often each process re-checks the replica, and how far behind it may be to be read
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=5)
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=10)
# work_mem of a roll-up's transaction (reports.rollup._tune_session; docs/benchmarks.md)
ROLLUP_WORK_MEM = env.str("ROLLUP_WORK_MEM", default="64MB")
if not re.fullmatch(r"[1-9][0-9]*(kB|MB|GB)", ROLLUP_WORK_MEM):
    raise ImproperlyConfigured(f"ROLLUP_WORK_MEM={ROLLUP_WORK_MEM!r}: a size such as 64MB (kB, MB or GB)")
# parallel workers a full roll-up's count may take (max_parallel_workers_per_gather for its
# transaction): unset, the server's setting; on a database host that also answers the
# portal's pages, fewer leave cores to them (docs/deployment.md, docs/benchmarks.md)
_parallel = env.str("ROLLUP_PARALLEL_WORKERS", default="")
if _parallel and not (re.fullmatch(r"[0-9]{1,2}", _parallel) and int(_parallel) <= 64):
    raise ImproperlyConfigured(f"ROLLUP_PARALLEL_WORKERS={_parallel!r}: a number from 0 to 64, or unset")
ROLLUP_PARALLEL_WORKERS = int(_parallel) if _parallel else None
# a full roll-up counts the units in id ranges of this many, resting ROLLUP_BATCH_PAUSE × each
# batch's time after it (reports.rollup._count_all); 0: one statement on parallel workers
_batch, _pause = env.str("ROLLUP_BATCH_UNITS", default="0"), env.str("ROLLUP_BATCH_PAUSE", default="0")
if not re.fullmatch(r"[0-9]{1,9}", _batch) or 0 < int(_batch) < 1000:
    raise ImproperlyConfigured(f"ROLLUP_BATCH_UNITS={_batch!r}: 0 (one statement) or a number of units ≥ 1000")
if not re.fullmatch(r"[0-9]{1,2}(\.[0-9]{1,3})?", _pause) or float(_pause) > 10:
    raise ImproperlyConfigured(f"ROLLUP_BATCH_PAUSE={_pause!r}: a number from 0 to 10 (pause ÷ batch time)")
ROLLUP_BATCH_UNITS, ROLLUP_BATCH_PAUSE = int(_batch), float(_pause)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "units.User"
# API tokens (django-rest-knox): hashed at rest, shown once, expiring; our model adds a scope.
KNOX_TOKEN_MODEL = "units.ApiToken"  # noqa: S105 - a model name, not a secret
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# django-axes: lock an account+address out after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "sanling.kernel.http.axes_client_ip"
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
LOGIN_RATE_PER_MINUTE = env.int("LOGIN_RATE_PER_MINUTE", default=20)
# Proxies in front of the portal whose X-Forwarded-For is believed (nginx: 1). One setting
# for the audit trail's address, the lock-out and the API throttles; 0: the header is ignored.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=env.int("API_NUM_PROXIES", default=0))
AXES_USERNAME_CALLABLE = "units.audit.axes_username"
AXES_LOCKOUT_CALLABLE = "units.audit.axes_lockout"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Evidence files live outside the static root and are served only through a view
# that checks jurisdiction; MEDIA_URL is deliberately not routed.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=20 * 1024 * 1024)
UNIT_IMPORT_MAX_ROWS = env.int("UNIT_IMPORT_MAX_ROWS", default=50_000)

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="sanling@localhost")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)

# Celery: with no REDIS_URL tasks run in-process (eager); with it, real workers.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# So a task id handed back by an eager run can be looked up like a real one.
CELERY_TASK_STORE_EAGER_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_RESULT_EXTENDED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang a request when Redis is down: fail fast, the caller
# records the pending roll-up and the nightly job catches up.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 5
# Separate queues, so a long full roll-up never holds up an approval's incremental update
# or a mail: each queue has its own worker pool (docs/deployment.md names the commands).
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "reports.tasks.rollup_township": {"queue": "incremental"},
    "reports.tasks.rollup_campaign_year": {"queue": "rollup"},
    "supervision.tasks.send_mails": {"queue": "mail"},
}
WORKER_ALL_QUEUES = "default,incremental,rollup,mail"  # one worker for everything (development, tests)
CELERY_BEAT_SCHEDULE = {
    "rollup-all-nightly": {
        "task": "reports.tasks.rollup_all",
        "schedule": crontab(hour=1, minute=30),
    },
    "rollup-dirty": {"task": "reports.tasks.rollup_dirty", "schedule": 120.0},
    "rectifications-overdue-daily": {
        "task": "supervision.tasks.mark_overdue",
        "schedule": crontab(hour=0, minute=10),
    },
}

if REDIS_URL:
    # A Redis outage must not take pages down: cache errors are ignored (a miss), so
    # throttling degrades open rather than failing every request.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# A person's token from auth/token/ lasts a working day; an API client's, issued by an
# administrator, API_CLIENT_TOKEN_DAYS. At most 10 live tokens per person.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("API_TOKEN_HOURS", default=10)),
    "TOKEN_LIMIT_PER_USER": 10,
    "AUTH_HEADER_PREFIX": "Token",
}
API_CLIENT_TOKEN_DAYS = env.int("API_CLIENT_TOKEN_DAYS", default=180)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sanling.kernel.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # signed in; API clients read only, within their token's scope (views declare client_scope)
    "DEFAULT_PERMISSION_CLASSES": ["sanling.kernel.permissions.ReadOnlyForApiClients"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "sanling.kernel.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "sanling.kernel.throttling.AnonThrottle",
        "sanling.kernel.throttling.UserThrottle",
    ],
    "EXCEPTION_HANDLER": "sanling.kernel.api.exception_handler",
    # the throttles identify clients by sanling.kernel.http.client_ip (TRUSTED_PROXIES)
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="30/min"),
        "user": env("API_THROTTLE_USER", default="6000/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "sanling API",
    "DESCRIPTION": "“三零”单位创建 — attainment statistics and campaign resources",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI and Redoc from local static files: the portal runs on an intranet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several resources have a `kind` and a `status`: name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "UnitKindEnum": "units.models.UnitKind",
        "IncidentKindEnum": "standards.models.IncidentKind",
        "InspectionKindEnum": "supervision.models.InspectionKind",
        "AssessmentStatusEnum": "inspections.models.Status",
        "IncidentStatusEnum": "inspections.models.IncidentStatus",
        "TaskStatusEnum": "supervision.models.TaskStatus",
        "SpotCheckStatusEnum": "supervision.models.CheckStatus",
        "RegionChangeKindEnum": "units.models.ChangeKind",
    },
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "sanling.kernel.api.document_errors"],
}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

DEMO_NOTICE = _("演示数据")

# Admin exports (django-import-export): a cell beginning = + - @ is exported as text.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True
SIMPLE_HISTORY_REVERT_DISABLED = True

# Content-Security-Policy (django-csp) on every page: scripts only from the portal itself or
# with the request's nonce; nothing from elsewhere (the portal runs on an intranet). Styles
# may be inline (style attributes in the templates, ECharts' own).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# knox's own token table is not used (KNOX_TOKEN_MODEL = our ApiToken); its migrations
# would still create it, referencing users, so the app runs without them.
MIGRATION_MODULES = {"knox": None}
