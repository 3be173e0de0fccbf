"""Settings shared by every deployment form.

Configuration comes from the environment (12-factor). Two forms exist:

* embedded (default): SQLite in a data directory, the ORM task backend, one process tree;
* scaled: ``DATABASE_URL`` (PostgreSQL, also the task queue) and ``REDIS_URL`` (cache, concurrency slots),
  any number of ``resonanz web`` and ``resonanz worker`` processes on any number of machines.

Production (``RESONANZ_ENV=production``) refuses to start without its secrets: there are no defaults for
``SECRET_KEY`` or ``RESONANZ_ENCRYPTION_KEYS`` there. The embedded form generates both once into the data
directory (mode 0600) so that a first start needs no configuration at all.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent.parent
ENVIRONMENT = os.environ.get("RESONANZ_ENV", "embedded")  # embedded | production | test
DATA_DIR = Path(os.environ.get("RESONANZ_DATA_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_from_env_or_file(env_name: str, filename: str, generate: object) -> str:
    """Return the secret from the environment; outside production fall back to a generated file."""
    value = os.environ.get(env_name)
    if value:
        return value
    if ENVIRONMENT == "production":
        raise ImproperlyConfigured(f"{env_name} must be set when RESONANZ_ENV=production")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / filename
    if not path.exists():
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(generate() if callable(generate) else str(generate))
    return path.read_text().strip()


SECRET_KEY = _secret_from_env_or_file("SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))
# Comma separated Fernet keys; the first encrypts, all decrypt (see `resonanz manage rotate_keys`).
ENCRYPTION_KEYS = [
    k.strip()
    for k in _secret_from_env_or_file(
        "RESONANZ_ENCRYPTION_KEYS", "encryption_keys", lambda: Fernet.generate_key().decode()
    ).split(",")
    if k.strip()
]


def _check_fernet_keys(keys: list[str]) -> None:
    """A malformed key must stop the start with a clear message, not turn every page into a 500 later."""
    if not keys:
        raise ImproperlyConfigured("RESONANZ_ENCRYPTION_KEYS is empty: it needs at least one Fernet key")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"RESONANZ_ENCRYPTION_KEYS: key {position} of {len(keys)} is not a Fernet key (32 url-safe "
                "base64-encoded bytes; make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from None


_check_fernet_keys(ENCRYPTION_KEYS)

DEBUG = _env_bool("DEBUG", default=False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# The address links in e-mails and short links point to; by default this machine on RESONANZ_PORT.
BASE_URL = os.environ.get("RESONANZ_BASE_URL") or (
    f"http://127.0.0.1:{os.environ.get('RESONANZ_PORT', '8000')}"
)
# Short-link clicks: 0 writes each click in the redirect (one insert); > 0 collects them per process and
# writes them every that many seconds in one multi-row insert (faster; a killed process loses that much).
RESONANZ_CLICK_BUFFER_SECONDS = float(os.environ.get("RESONANZ_CLICK_BUFFER_SECONDS", "0"))
# The short-link redirect answered in front of Django's handler (links/fastpath.py; off: through Django's
# middleware, the same answers at several times the CPU), and how long each web process keeps a resolved
# code before asking the cache again (how long another process may serve a deleted or changed link).
RESONANZ_LINK_FASTPATH = _env_bool("RESONANZ_LINK_FASTPATH", default=True)
RESONANZ_LINK_MEMO_SECONDS = float(os.environ.get("RESONANZ_LINK_MEMO_SECONDS", "5"))
# Servers users name when connecting (their own instance of a network) must be public unless the operator
# allows private, loopback and link-local addresses (core/server_urls.py: server-side request forgery).
RESONANZ_ALLOW_PRIVATE_SERVERS = _env_bool("RESONANZ_ALLOW_PRIVATE_SERVERS", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # allauth.usersessions' list page uses its template tags
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",  # the user's active sessions, "sign out the others" (accounts/sessions/)
    "django_tasks_db",
    "resonanz.core",
    "resonanz.accounts",
    "resonanz.channels",
    "resonanz.posts",
    "resonanz.publishing",
    "resonanz.engagement",
    "resonanz.api",
    "resonanz.approvals",
    "resonanz.notifications",
    "resonanz.calendar",
    "resonanz.overview",
    "resonanz.bulk",
    "resonanz.campaigns",
    "resonanz.links",
    "resonanz.forecasting",
    "resonanz.ads",
    "resonanz.leads",
    "resonanz.analytics",
    "resonanz.listening",
    "resonanz.advocacy",
    "resonanz.reports",
    "resonanz.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Short-link redirects (/l/<code>) answer here, before sessions and authentication (links/middleware.py).
    "resonanz.links.middleware.ShortLinkMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "resonanz.accounts.middleware.UserLanguageMiddleware",  # the user's saved language wins
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Records each sign-in's session (browser, address, time) for the sessions page; activity is not
    # tracked per request (USERSESSIONS_TRACK_ACTIVITY stays off: no write on every page view).
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "resonanz.accounts.middleware.TwoFactorRequiredMiddleware",  # organisations that require it
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "resonanz.config.urls"
WSGI_APPLICATION = "resonanz.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project-level overrides (e.g. allauth's layout and login page) win over the apps' templates.
        "DIRS": [PACKAGE_DIR / "templates"],
        "OPTIONS": {
            # The apps' templates, then each registered connector's own (connectors/<network>/templates).
            "loaders": [
                (
                    "django.template.loaders.cached.Loader",
                    [
                        "django.template.loaders.filesystem.Loader",
                        "django.template.loaders.app_directories.Loader",
                        "resonanz.connectors.loaders.Loader",
                    ],
                )
            ],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'resonanz.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web server and the worker share the file without "database is
    # locked" errors; IMMEDIATE transactions take the write lock up front (no upgrade deadlocks).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
RESONANZ_REDIS_PREFIX = os.environ.get("RESONANZ_REDIS_PREFIX", "rz")
TASK_QUEUES = ["default", "publish", "sync"]
# One engine for both forms: django-tasks-db's database backend (SQLite embedded, PostgreSQL scaled);
# Redis, when configured, only carries the cache and the per-network concurrency slots. The choice
# and the benchmark it rests on are in docs/architecture.md ("Task engine").
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:home"

# django-allauth: e-mail login, TOTP second factor, no open sign-up (admins invite people).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_ADAPTER = "resonanz.accounts.adapters.AccountAdapter"
ACCOUNT_USER_DISPLAY = "resonanz.accounts.display.user_display"  # the name when set ("Signed in as …")
# Failed sign-ins (accounts/login_limits.py): per address; per account and address together; per account
# across addresses (its owner can unlock her browser through an e-mailed link).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip",
    "login_failed_pair": "5/5m/key",
    "login_failed_account": "50/h/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# How long an invitation link works (accounts.services.invitation_create); a resend starts it again.
RESONANZ_INVITATION_DAYS = int(os.environ.get("RESONANZ_INVITATION_DAYS", "7"))
MFA_TOTP_ISSUER = "Resonanz"

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_WORKSPACE_TIME_ZONE = "Europe/Berlin"

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("RESONANZ_MEDIA_ROOT", DATA_DIR / "media"))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "resonanz.connectors.finders.ConnectorFinder",  # connectors/<network>/static
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024


def _mailer() -> dict[str, object]:
    """The e-mail backend: the console outside production (mails are printed), SMTP in production.

    Production never falls back to the console: notifications and invitations would silently go
    nowhere. It sends through ``EMAIL_HOST`` (required) unless ``EMAIL_BACKEND`` names another backend.
    """
    backend = os.environ.get("EMAIL_BACKEND")
    if ENVIRONMENT != "production":
        return {"BACKEND": backend or "django.core.mail.backends.console.EmailBackend"}
    if backend and not backend.endswith("smtp.EmailBackend"):
        return {"BACKEND": backend}
    host = os.environ.get("EMAIL_HOST")
    if not host:
        raise ImproperlyConfigured(
            "EMAIL_HOST (or another EMAIL_BACKEND) must be set when RESONANZ_ENV=production"
        )
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": host,
            "port": int(os.environ.get("EMAIL_PORT", "587")),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": _env_bool("EMAIL_USE_TLS", default=True),
            "timeout": 20,
        },
    }


MAILERS = {"default": _mailer()}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "resonanz@localhost")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # HTMX reads the token from the cookie-less meta tag instead; kept default.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": ["'self'"],
    # Channel avatars and link-card images live on the networks' hosts (https only).
    "img-src": ["'self'", "data:", "blob:", "https:"],
    "style-src": ["'self'"],
    "script-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
if ENVIRONMENT == "production":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Production runs behind a TLS-terminating reverse proxy (docs/operations.md) that sets
    # X-Forwarded-Proto and strips it from clients; without that proxy set RESONANZ_BEHIND_PROXY=false,
    # or anyone could claim https. https://docs.djangoproject.com/en/6.0/ref/settings/#secure-proxy-ssl-header
    if _env_bool("RESONANZ_BEHIND_PROXY", default=True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        # The client's address is the last one the proxy appends to X-Forwarded-For; without this every
        # sign-in would come from the proxy's address and share one failed-login limit.
        ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("RESONANZ_TRUSTED_PROXY_COUNT", "1"))
    SECURE_SSL_REDIRECT = _env_bool("RESONANZ_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(os.environ.get("RESONANZ_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("RESONANZ_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = _env_bool("RESONANZ_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading puts the operator's whole domain on the browsers' built-in HTTPS list, which takes
        # months to undo (https://hstspreload.org/#removal): the operator's decision, not a default.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "resonanz.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "resonanz.accounts.authentication.ReadOnlyTokenPermission",  # read-only tokens: GET only (403)
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "resonanz.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": os.environ.get("RESONANZ_API_RATE", "6000/hour")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Resonanz API",
    "DESCRIPTION": "Plan, publish and measure social media across networks and workspaces.",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # A workspace's language (de/en) is not a message's detected language (de/en/other): two enums.
    "ENUM_NAME_OVERRIDES": {
        "WorkspaceLanguageEnum": LANGUAGES,
        "MessageLanguageEnum": "resonanz.engagement.models.MessageLanguage",
    },
    # The default hook (enums as components) and the shared error answers of every operation.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "resonanz.api.schema.document_error_responses",
    ],
}

# Explicit connector registry (network slug -> provider class). Only what is listed here exists; each
# network is one folder under resonanz/connectors/ and one line here (docs/connectors.md).
RESONANZ_CONNECTORS = {
    "bluesky": "resonanz.connectors.bluesky.provider.BlueskyConnector",
    "mastodon": "resonanz.connectors.mastodon.provider.MastodonConnector",
    "x": "resonanz.connectors.x.provider.XConnector",
    "facebook": "resonanz.connectors.facebook.provider.FacebookConnector",
    "instagram": "resonanz.connectors.instagram.provider.InstagramConnector",
    "linkedin": "resonanz.connectors.linkedin.provider.LinkedInConnector",
    "threads": "resonanz.connectors.threads.provider.ThreadsConnector",
}
# Networks that fetch media from a URL get a signed, expiring address of this Resonanz: set
# RESONANZ_PUBLIC_URL to the address the internet reaches it at (docs/operations.md, "Public media URL").
RESONANZ_PUBLIC_URL = os.environ.get("RESONANZ_PUBLIC_URL", "")
RESONANZ_PUBLIC_MEDIA_MAX_AGE = int(os.environ.get("RESONANZ_PUBLIC_MEDIA_MAX_AGE", str(2 * 86400)))
# S3-compatible object storage (AWS S3, MinIO, Hetzner or IONOS Object Storage; docs/operations.md,
# "S3 media storage"): when a bucket is named, uploaded media go there (django-storages' S3Storage) and the
# networks fetch a presigned, expiring GET URL of the bucket (posts/s3_media.py) instead of an address of
# this Resonanz. Unset (the embedded default): the file system and the signed Resonanz address.
RESONANZ_S3_BUCKET = os.environ.get("RESONANZ_S3_BUCKET", "")
RESONANZ_S3_ENDPOINT_URL = os.environ.get("RESONANZ_S3_ENDPOINT_URL", "")  # "" = AWS
RESONANZ_S3_REGION = os.environ.get("RESONANZ_S3_REGION", "")
RESONANZ_S3_ACCESS_KEY_ID = os.environ.get("RESONANZ_S3_ACCESS_KEY_ID", "")
RESONANZ_S3_SECRET_ACCESS_KEY = os.environ.get("RESONANZ_S3_SECRET_ACCESS_KEY", "")
# A domain in front of the bucket (CDN): django-storages then builds unsigned addresses on it, so the
# bucket (or the CDN) must serve public/ without a signature.
RESONANZ_S3_CUSTOM_DOMAIN = os.environ.get("RESONANZ_S3_CUSTOM_DOMAIN", "")
RESONANZ_S3_ADDRESSING_STYLE = os.environ.get("RESONANZ_S3_ADDRESSING_STYLE", "")  # "path" / "virtual"
# Lifetime of a presigned address (seconds); SigV4 allows at most 7 days.
RESONANZ_S3_MEDIA_MAX_AGE = int(
    os.environ.get("RESONANZ_S3_MEDIA_MAX_AGE", str(RESONANZ_PUBLIC_MEDIA_MAX_AGE))
)
if RESONANZ_S3_BUCKET:
    # https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html (settings by OPTIONS key)
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": RESONANZ_S3_BUCKET,
            "endpoint_url": RESONANZ_S3_ENDPOINT_URL or None,
            "region_name": RESONANZ_S3_REGION or None,
            "access_key": RESONANZ_S3_ACCESS_KEY_ID or None,
            "secret_key": RESONANZ_S3_SECRET_ACCESS_KEY or None,
            "custom_domain": RESONANZ_S3_CUSTOM_DOMAIN or None,
            "addressing_style": RESONANZ_S3_ADDRESSING_STYLE or None,
            "signature_version": "s3v4",
            "querystring_auth": True,
            "querystring_expire": RESONANZ_S3_MEDIA_MAX_AGE,
            "default_acl": None,  # private objects; the bucket's policy decides (presigned GETs)
            "file_overwrite": False,
        },
    }
# The MediaHost the connectors ask for addresses (connectors/base/media.py); the environment overrides.
RESONANZ_MEDIA_HOST = os.environ.get("RESONANZ_MEDIA_HOST") or (
    "resonanz.posts.s3_media.S3MediaHost"
    if RESONANZ_S3_BUCKET
    else "resonanz.posts.public_media.SignedMediaHost"
)
# Tests and emulators on this machine only: accept a loopback or private RESONANZ_PUBLIC_URL (no real
# network can fetch from one).
RESONANZ_PUBLIC_MEDIA_ALLOW_PRIVATE = False
# Per-network concurrency caps for publishing (simultaneous network calls across all workers); a network
# not named here gets its connector's declared ``network_concurrency``.
RESONANZ_NETWORK_CONCURRENCY: dict[str, int] = {}
# Publishing engine tuning. The lease is short and renewed every lease/4 while a batch works
# (batch.LeaseHeartbeat), so a killed worker's claimed posts are recovered within lease + sweep interval
# (about 25 s), not after minutes.
# Renewed every lease/4 while the batch works, so it only has to outlast three missed beats; short, so a
# killed worker's posts go out again within lease + sweep interval (bench/publish_throughput.py --kill).
RESONANZ_PUBLISH_LEASE_SECONDS = int(os.environ.get("RESONANZ_PUBLISH_LEASE_SECONDS", "12"))
RESONANZ_PUBLISH_MAX_ATTEMPTS = int(os.environ.get("RESONANZ_PUBLISH_MAX_ATTEMPTS", "8"))
# Variants claimed (and recorded) together by one publish_due task; network calls of a batch run in a
# per-process pool of this many threads (waiting on the network, not computing).
RESONANZ_PUBLISH_BATCH_SIZE = int(os.environ.get("RESONANZ_PUBLISH_BATCH_SIZE", "250"))
RESONANZ_PUBLISH_HTTP_THREADS = int(os.environ.get("RESONANZ_PUBLISH_HTTP_THREADS", "32"))
# Worker liveness and recovery (resonanz.taskqueue.reaper): django-tasks-db has no reaper of its own.
RESONANZ_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("RESONANZ_WORKER_HEARTBEAT_SECONDS", "5"))
RESONANZ_WORKER_STALE_SECONDS = float(os.environ.get("RESONANZ_WORKER_STALE_SECONDS", "15"))
RESONANZ_REAP_INTERVAL_SECONDS = float(os.environ.get("RESONANZ_REAP_INTERVAL_SECONDS", "5"))
RESONANZ_TASK_MAX_RECOVERIES = int(os.environ.get("RESONANZ_TASK_MAX_RECOVERIES", "3"))
RESONANZ_TASK_RESULT_DAYS = float(os.environ.get("RESONANZ_TASK_RESULT_DAYS", "7"))
RESONANZ_SWEEP_INTERVAL_SECONDS = float(os.environ.get("RESONANZ_SWEEP_INTERVAL_SECONDS", "5"))
RESONANZ_ENGAGEMENT_INTERVAL_SECONDS = float(os.environ.get("RESONANZ_ENGAGEMENT_INTERVAL_SECONDS", "900"))
# Listening polls every saved query's sources (from their cursors) this often.
RESONANZ_LISTENING_INTERVAL_SECONDS = float(os.environ.get("RESONANZ_LISTENING_INTERVAL_SECONDS", "300"))
# How often the forecast checks for workspaces to refit (each is refit once 5 new posts have figures).
RESONANZ_FORECAST_REFIT_SECONDS = float(os.environ.get("RESONANZ_FORECAST_REFIT_SECONDS", "86400"))
# Scheduled report e-mails (reports.tasks.deliver_reports): how often due schedules are looked for, and
# how late a missed delivery is still sent (a worker down over the weekend still sends Monday's report).
RESONANZ_REPORT_INTERVAL_SECONDS = float(os.environ.get("RESONANZ_REPORT_INTERVAL_SECONDS", "300"))
RESONANZ_REPORT_CATCHUP_HOURS = float(os.environ.get("RESONANZ_REPORT_CATCHUP_HOURS", "48"))
# Paid posts: every channel with an ad account is synced this often (the last 30 days each time; the
# networks still correct recent days). Ad reporting is updated a few times a day at most.
RESONANZ_ADS_SYNC_INTERVAL_SECONDS = float(
    os.environ.get("RESONANZ_ADS_SYNC_INTERVAL_SECONDS", str(6 * 3600))
)
# Where the paid-posts figures take their leads from (ads.selectors.ad_figures, docs/ads.md): "auto" = the
# leads of Resonanz's own forms attributed to the campaign or post where there are any, else the ad
# networks' counts; "forms" = only the forms'; "networks" = only the networks'.
RESONANZ_ADS_LEAD_SOURCE = os.environ.get("RESONANZ_ADS_LEAD_SOURCE", "auto")
if RESONANZ_ADS_LEAD_SOURCE not in {"auto", "forms", "networks"}:
    raise ImproperlyConfigured("RESONANZ_ADS_LEAD_SOURCE must be auto, forms or networks")
RESONANZ_CHANNEL_CHECK_INTERVAL_SECONDS = float(
    os.environ.get("RESONANZ_CHANNEL_CHECK_INTERVAL_SECONDS", str(6 * 3600))
)
# The channel health check warns this many days before a login ends that no refresh can extend
# (Connector.login_expires_at), with a link to reconnect.
RESONANZ_LOGIN_EXPIRY_WARNING_DAYS = int(os.environ.get("RESONANZ_LOGIN_EXPIRY_WARNING_DAYS", "7"))
# Webhook deliveries (/hooks/<network>/, engagement/webhooks.py) larger than this are refused (413).
RESONANZ_WEBHOOK_MAX_BYTES = int(os.environ.get("RESONANZ_WEBHOOK_MAX_BYTES", str(1024 * 1024)))
RESONANZ_HTTP_TIMEOUT_SECONDS = float(os.environ.get("RESONANZ_HTTP_TIMEOUT_SECONDS", "20"))
# Idle keep-alive connections are dropped after this many seconds: below the shortest idle timeout of the
# servers we talk to (Node's http server, which runs the atproto PDS, closes after 5 s), so a request is not
# written into a connection the server is closing at that very moment (connectors/base/http.py).
RESONANZ_HTTP_KEEPALIVE_SECONDS = float(os.environ.get("RESONANZ_HTTP_KEEPALIVE_SECONDS", "4"))
# Plain requests (bytes or JSON body, no proxy) go through urllib3's pool instead of httpx's transport
# (measured: 3-9 % less CPU per publish, bench/connector_cpu.py; docs/architecture.md "HTTP").
RESONANZ_HTTP_LEAN = os.environ.get("RESONANZ_HTTP_LEAN", "1") == "1"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task start and finish (the ticker's sweep every 5 s among them) would bury what an
        # operator looks for; failures are logged at ERROR and stay. RESONANZ_TASK_LOG_LEVEL=INFO shows all.
        "django.tasks": {"level": os.environ.get("RESONANZ_TASK_LOG_LEVEL", "WARNING")},
    },
}
