"""Settings shared by every environment; values come from the environment (django-environ)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parents[3]
env = environ.Env()

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)

# --- Platform identity and hostnames -------------------------------------------------
# Agencies are served at <agency-slug>.<PLATFORM_BASE_DOMAIN> and at their custom
# domains; PLATFORM_PUBLIC_HOSTS serve the provider console and the landing page.
PLATFORM_NAME = "MotCua Cloud"
PLATFORM_BASE_DOMAIN = env.str("PLATFORM_BASE_DOMAIN", default="motcua.localhost")
PLATFORM_PUBLIC_HOSTS = env.list(
    "PLATFORM_PUBLIC_HOSTS", default=[PLATFORM_BASE_DOMAIN, f"www.{PLATFORM_BASE_DOMAIN}"]
)
# Host validation is done by the agency router (an unknown host gets a 404 page
# before any view runs), since custom domains cannot be listed here ahead of time.
ALLOWED_HOSTS = ["*"]
# How many reverse proxies (load balancers) stand in front of the app: only their
# X-Forwarded-For entries are believed when telling client addresses apart.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Applications --------------------------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "tenants",
    # Vietnamese for allauth; before django.contrib.* and allauth so its catalog wins
    # where they share a msgid ("Email", "Password (again)").
    "localization",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",  # django-csp: the Content-Security-Policy header (and its settings checks)
    "ninja",  # django-ninja: its API docs page and bundled Swagger UI assets (no CDN)
    "accounts",
    "ops",
    "console",
    "catalog",
    "billing",
    "onboarding",
    "exchange",
    "reports",
    "docstore",
    "nationalsync",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "audit",
    "workdays",
    "procedures",
    "dossiers",
    "desk",
    "register",
    "results",
    "portal",
    "api",
    "agencyadmin",
    "notifications",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Agency"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# New agency schemas are cloned from this template, kept current by migrate_agencies.
TENANT_BASE_SCHEMA = "agency_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# `SET search_path` once per schema switch, not before every query.
TENANT_LIMIT_SET_CALLS = True
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

ROOT_URLCONF = "config.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before routing, so that every page gets them, an unknown host's 404 page too.
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ops.headers.PermissionsPolicyMiddleware",
    "tenants.routing.AgencyRoutingMiddleware",
    # NUL characters refused, text normalised to NFC, before anything reads the request.
    "ops.inputs.RequestInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tenants.routing.SessionAgencyBindingMiddleware",
    # Vietnamese unless the person chose English (a cookie); not the browser's Accept-Language.
    "ops.language.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.ProviderStaffMFAMiddleware",
]

TEMPLATES: list[dict[str, Any]] = [
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
                "tenants.context_processors.agency",
                "tenants.context_processors.branding",
            ],
        },
    }
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Database ------------------------------------------------------------------------
# DATABASE_URL given: use that server. Otherwise the environment module (local,
# test) fills DATABASES from the embedded PostgreSQL; production requires it.
# Two roles (infra/README.md): DATABASE_URL is the application's role, which owns nothing
# (the web, the workers, most commands); DATABASE_OWNER_URL is the role that owns the schemas
# and tables (migrations and schema DDL). Without DATABASE_OWNER_URL both are the same role.
DATABASE_URL = env.str("DATABASE_URL", default="")
DATABASE_OWNER_URL = env.str("DATABASE_OWNER_URL", default="")
# Which of the two this process connects as: "app" unless manage.py runs a command that
# changes the database's structure (migrate, migrate_agencies, ...), which sets "owner".
DATABASE_ROLE = env.str("MOTCUA_DATABASE_ROLE", default="app")
if DATABASE_ROLE not in ("app", "owner"):
    raise ValueError(f"MOTCUA_DATABASE_ROLE must be 'app' or 'owner', not {DATABASE_ROLE!r}")


def database_from_url(url: str) -> dict[str, Any]:
    config: dict[str, Any] = env.db_url_config(url)
    config["ENGINE"] = "django_tenants.postgresql_backend"
    config.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    config["CONN_HEALTH_CHECKS"] = True
    return config


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker ---------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")


def redis_db_url(url: str, db: int) -> str:
    """The same Redis server, another logical database (the cache never flushes the broker)."""
    if url.startswith("unix://"):
        return f"{url.split('?', 1)[0]}?db={db}"
    base = url.rstrip("/")
    scheme, rest = base.split("://", 1)
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{db}"


def broker_url_from_redis(url: str, db: int = 0) -> str:
    if url.startswith("unix://"):
        socket = url.removeprefix("unix://").split("?", 1)[0]
        return f"redis+socket://{socket}?virtual_host={db}"
    return redis_db_url(url, db)


def caches_for(redis_url: str, db: int = 1) -> dict[str, Any]:
    return {
        # Tenant-aware: every key is prefixed with the current schema, so agency A
        # can never read agency B's entries (but allauth's rate limits: config.cache).
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": redis_db_url(redis_url, db),
            "KEY_FUNCTION": "config.cache.make_key",
            "KEY_PREFIX": "motcua",
        },
        # Deliberately cross-tenant (hostname routing, rate limits on public pages).
        # Code using it says so: caches["platform"].
        "platform": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": redis_db_url(redis_url, db),
            "KEY_PREFIX": "motcua-platform",
        },
    }


# --- Celery ----------------------------------------------------------------------------
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is delivered again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"tenants.tasks.*": {"queue": "provisioning"}}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "Asia/Ho_Chi_Minh"  # same as TIME_ZONE below
CELERY_BEAT_SCHEDULE = {
    # Dossier status changes still waiting for the national portal (behind per-row tasks).
    "nationalsync-push-due": {
        "task": "nationalsync.tasks.sync_push_due",
        "schedule": crontab(minute="*/5"),
    },
    # Storage and staff seats of yesterday, into the usage ledger (idempotent per day).
    "billing-meter-yesterday": {
        "task": "billing.tasks.meter_yesterday",
        "schedule": crontab(hour=1, minute=10),
    },
    # Month-end invoicing from the ledger, on the 1st for the month before.
    "billing-dunning-daily": {
        "task": "billing.tasks.dunning_daily",
        "schedule": crontab(hour=8, minute=0),
    },
    "billing-close-last-month": {
        "task": "billing.tasks.close_last_month",
        "schedule": crontab(day_of_month="1", hour=3, minute=0),
    },
    # Ledger rows of Stripe payers → Billing Meter events (outbox; Stripe dedupes by identifier).
    "billing-meter-events-push": {
        "task": "billing.tasks.meter_events_push",
        "schedule": crontab(minute="*/10"),
    },
    # Stripe payers' customers, subscriptions and issued invoices, mirrored (idempotent).
    "billing-stripe-sync": {
        "task": "billing.tasks.stripe_sync",
        "schedule": crontab(minute=25),
    },
    # Webhook events whose processing was lost or failed.
    "billing-webhook-events-retry": {
        "task": "billing.tasks.webhook_events_retry",
        "schedule": crontab(minute="*/5"),
    },
    # Form 04 drafts and officers' due-soon reminders, early enough for a leader to sign.
    "desk-deadline-scan": {
        "task": "desk.tasks.deadline_scan",
        "schedule": crontab(hour=6, minute=15),
    },
    # Notifications left queued (their task lost to a broker outage) are sent again.
    "notifications-resend-stale": {
        "task": "notifications.tasks.resend_stale",
        "schedule": crontab(minute="7,37"),
    },
}

# --- Notifications and deadlines ----------------------------------------------------------
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=8)
# The SMS provider (notifications.channels.SmsProvider); the HTTP one talks to SMS_API_BASE.
NOTIFICATIONS_SMS_PROVIDER = env.str(
    "NOTIFICATIONS_SMS_PROVIDER",
    default="notifications.contrib.http_sms.provider.HttpSmsProvider",
)
SMS_API_BASE = env.str("SMS_API_BASE", default="")
# The national portal's status-event endpoint (nationalsync); empty: changes wait in the outbox.
NATIONAL_PORTAL_URL = env.str("NATIONAL_PORTAL_URL", default="")
NATIONAL_PORTAL_TOKEN = env.str("NATIONAL_PORTAL_TOKEN", default="")
# First retry delay after a failed push; doubled each time, up to an hour.
NATIONAL_PORTAL_RETRY_SECONDS = env.int("NATIONAL_PORTAL_RETRY_SECONDS", default=30)
SMS_API_KEY = env.str("SMS_API_KEY", default="")
SMS_SENDER = env.str("SMS_SENDER", default="MOTCUA")
# Applicants with a phone number get SMS too when a provider is configured.
NOTIFICATIONS_SMS_ENABLED = env.bool("NOTIFICATIONS_SMS_ENABLED", default=bool(SMS_API_BASE))
# "Due soon" for the daily job: due within this many working days (0 = due today).
DEADLINE_SOON_WORKING_DAYS = env.int("DEADLINE_SOON_WORKING_DAYS", default=1)
# The new appointment a Form 04 draft proposes: this many working days after the old one.
DEADLINE_APOLOGY_EXTENSION_DAYS = env.int("DEADLINE_APOLOGY_EXTENSION_DAYS", default=5)
# An onboarding application provisioning with no progress for this long is shown as stuck,
# with a button to queue its remaining steps again (each step is idempotent).
ONBOARDING_STUCK_AFTER_SECONDS = env.int("ONBOARDING_STUCK_AFTER_SECONDS", default=120)

# --- Payment gateways ---------------------------------------------------------------------
# Stripe: secret key, webhook signing secret, and (tests, local) the base URL of a fake server.
STRIPE_API_KEY = env.str("STRIPE_API_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Signing secret of an event destination (thin events, e.g. meter error reports) sent to the same
# endpoint, if it is not the webhook endpoint's own.
STRIPE_EVENT_DESTINATION_SECRET = env.str("STRIPE_EVENT_DESTINATION_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")

# --- Auth and accounts ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[MotCua] "
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Failed sign-ins, passwords and second-factor codes alike (allauth counts both as this
# action): 10 a minute per client, 5 in 5 minutes per account. Counted once for the whole
# platform, not per host (config.cache.make_key, accounts.adapter).
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = PLATFORM_NAME

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions live in the public schema; the cookie is host-only (no SESSION_COOKIE_DOMAIN),
# so each agency host has its own session, and SessionAgencyBindingMiddleware refuses a
# session presented on another agency's host.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "platform"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Browser security headers ---------------------------------------------------------------
# Scripts, styles, images and fonts only from our own host: no inline script, inline style
# or event-handler attribute anywhere (tests/test_browser_headers.py checks the pages).
# Forms post to our own host, or send the citizen on to Stripe Checkout to pay a fee.
# data: images: the icons inside the bundled Swagger UI's stylesheet (API docs).
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF, "https://checkout.stripe.com"],
        "frame-ancestors": [NONE],
    },
}
# Never framed (with frame-ancestors 'none' above, for older browsers).
X_FRAME_OPTIONS = "DENY"
# Tracking links carry the dossier's lookup secret: never sent to another site.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Powerful browser features no page of ours uses (ops.headers).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "camera": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
}

# --- Internationalisation ----------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

# --- Static and media files ----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT: Path | None = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
# Each agency's files live under MEDIA_ROOT/<schema>/ (django-tenants' storage).
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
FILE_UPLOAD_PERMISSIONS = 0o640

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MotCua Cloud <no-reply@motcua.vn>")

# --- Logging ---------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The stripe library logs every request at INFO; its errors reach us as exceptions.
        "stripe": {"level": "WARNING"},
    },
}

# --- Errors: Sentry (optional) -----------------------------------------------------------------
SENTRY_DSN = env.str("SENTRY_DSN", default="")
