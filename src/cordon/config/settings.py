"""Django settings for Cordon.

Everything secret or deployment-specific comes from the environment:

- ``CORDON_HOME``: folder for the embedded database and generated secret (default ``./.cordon``).
- ``DATABASE_URL``: ``postgres://user:pass@host:port/db`` selects PostgreSQL; unset means SQLite (WAL)
  at ``$CORDON_HOME/cordon.sqlite3``.
- ``CORDON_SECRET_KEY``: the secret key (required in production; the demo writes one under CORDON_HOME).
- ``CORDON_DEBUG=1``: debug mode (never in production).
- ``CORDON_PRODUCTION=1``: production hardening (HTTPS-only cookies, HSTS, SSL redirect).
- ``CORDON_ALLOWED_HOSTS``: comma-separated host names.
- ``CORDON_TIME_ZONE``: the city's time zone (default Asia/Shanghai).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
HOME = Path(os.environ.get("CORDON_HOME", Path.cwd() / ".cordon")).resolve()

DEBUG = os.environ.get("CORDON_DEBUG", "") in ("1", "true", "yes")
PRODUCTION = os.environ.get("CORDON_PRODUCTION", "") in ("1", "true", "yes")


def _secret_key() -> str:
    key = os.environ.get("CORDON_SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise RuntimeError("CORDON_SECRET_KEY must be set in production")
    # Trial / demo: a random key kept under CORDON_HOME so sessions survive restarts.
    path = HOME / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        HOME.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h for h in os.environ.get("CORDON_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django_tasks_db",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "cordon.core",
    "cordon.places",
    "cordon.playbooks",
    "cordon.cases",
    "cordon.zones",
    "cordon.screening",
    "cordon.web",
    "cordon.care",
    "cordon.hotline",
    "cordon.supplies",
    "cordon.keyworkers",
    "cordon.passes",
    "cordon.keyplaces",
    "cordon.resources",
    "cordon.situation",
    "cordon.command",
    "cordon.maps",
    "cordon.phone",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cordon.web.middleware.RejectNulInQueryMiddleware",
    # (its process_exception runs for every view whatever its place; kept above the public lookup's fast path,
    # which answers only when it knows every middleware below it)
    "cordon.web.middleware.PageErrorsMiddleware",
    "cordon.situation.middleware.PublicLookupMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cordon.config.urls"
WSGI_APPLICATION = "cordon.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cordon.web.context.cordon",
            ],
        },
    }
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        u = urlparse(url)
        return {
            "ENGINE": "cordon.config.postgresql",  # Django's, with a health check without a round trip
            "NAME": unquote(u.path.lstrip("/")) or "cordon",
            "USER": unquote(u.username or "postgres"),
            "PASSWORD": unquote(u.password or ""),
            "HOST": u.hostname or "127.0.0.1",
            "PORT": str(u.port or 5432),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "TEST": {"NAME": os.environ.get("CORDON_TEST_DB", None)},
        }
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
    elif url:
        raise RuntimeError(f"DATABASE_URL not understood: {url!r} (use postgres://... or sqlite:///path)")
    else:
        HOME.mkdir(parents=True, exist_ok=True)
        path = str(HOME / "cordon.sqlite3")
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("CORDON_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked.html"
AXES_VERBOSE = False

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("CORDON_TIME_ZONE", "Asia/Shanghai")

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
try:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
except OSError:  # read-only home: whitenoise still serves from the finders
    pass
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Security headers (apply in every mode; HTTPS-only ones in production).
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Per-process memory cache: rendered parts of busy pages, keyed by change stamps (core.stamps).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cordon",
                      "OPTIONS": {"MAX_ENTRIES": 5000}}}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600
CSRF_COOKIE_HTTPONLY = False
if PRODUCTION:
    SECURE_SSL_REDIRECT = os.environ.get("CORDON_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"axes": {"level": "WARNING"}, "django.request": {"handlers": ["console"], "level": "ERROR"}},
}

# The task queue: Django's tasks framework with a database backend (docs/architecture.md, "The task queue").
# ``cordon worker`` runs it (``core.queue``); uploads from the browser and the periodic jobs are its tasks.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Uploads from the browser: the largest file accepted (bytes), streamed to disk under CORDON_HOME/uploads.
CORDON_UPLOAD_MAX = int(os.environ.get("CORDON_UPLOAD_MAX", str(2 * 1024 ** 3)))
# Uploads up to this size are imported while the page waits (through the queue's task, taken at once); larger
# ones wait for ``cordon worker``.
CORDON_UPLOAD_INLINE = int(os.environ.get("CORDON_UPLOAD_INLINE", str(256 * 1024)))
# An uploaded file is kept this many days after its import ended (done or failed), then deleted by the periodic
# job (``core.actions.do_delete_upload_files``); the upload's record and its error report stay.
CORDON_UPLOAD_KEEP_DAYS = int(os.environ.get("CORDON_UPLOAD_KEEP_DAYS", "30"))
FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every uploaded file goes to a temporary file, never whole in memory
FILE_UPLOAD_TEMP_DIR = str(HOME / "uploads")  # the same disk as the stored uploads: keeping one is a rename
FILE_UPLOAD_HANDLERS = ["cordon.web.uploads.LimitedUploadHandler"]
try:
    Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
except OSError:
    pass

# The day start's release on PostgreSQL: on a day with many orders ending, this many connections release parts of
# the orders table at once, each in its own transaction (``cases.daystart``); 1 keeps one connection.
CORDON_DAY_START_PARTS = int(os.environ.get("CORDON_DAY_START_PARTS", "2"))

# The API's page size cap.
CORDON_PAGE_MAX = 200

# The sender of notifications by SMS, e-mail and WeCom (``core.notify``): a class with send(channel, user, text).
CORDON_NOTIFY_BACKEND = os.environ.get("CORDON_NOTIFY_BACKEND", "cordon.core.notify.LogBackend")
