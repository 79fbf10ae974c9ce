"""Production: DEBUG off, secure cookies and headers, and nothing embedded.

DJANGO_SETTINGS_MODULE=sanling.settings.production (the default of wsgi.py, asgi.py and
celery.py). It refuses to start — with the name of what is missing — without
DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, a PostgreSQL DATABASE_URL and REDIS_URL: a
production that fell back to SQLite, in-process tasks and a per-process cache would run
and be wrong. Mail goes over SMTP unless EMAIL_BACKEND says otherwise.

DATABASE_REPLICA_URL (optional, PostgreSQL): a streaming replica the read-only views read
from while it answers and lags by at most DATABASE_REPLICA_MAX_LAG_SECONDS (default 10),
re-checked every DATABASE_REPLICA_CHECK_SECONDS (default 5); otherwise they read from the
primary (docs/deployment.md, 读副本).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from ._dotenv import read_dotenv

read_dotenv()

REQUIRED = {
    "DJANGO_SECRET_KEY": "a long random secret",
    "DJANGO_ALLOWED_HOSTS": "the host names the portal answers to, comma-separated",
    "DATABASE_URL": "postgres://user:password@host:5432/sanling",
    "REDIS_URL": "redis://host:6379/0 (Celery broker, results and cache)",
}
for _name, _example in REQUIRED.items():
    if not os.environ.get(_name, "").strip():
        raise ImproperlyConfigured(
            f"Set the {_name} environment variable ({_example}): production does not start without it."
        )
if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://", "pgsql://")):
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database in production (postgres://…).")
if os.environ.get("DATABASE_REPLICA_URL", "").strip() and not os.environ["DATABASE_REPLICA_URL"].startswith(
    ("postgres://", "postgresql://", "pgsql://")
):
    raise ImproperlyConfigured("DATABASE_REPLICA_URL must name a PostgreSQL database (postgres://…), or be unset.")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
DEMO_DATA_ALLOWED = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
