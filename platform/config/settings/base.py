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
    "allauth.socialaccount",
    "vneid",  # VNeID sign-in (OpenID Connect), the identity it asserts
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
    "reorg",
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
    "documents",
    "verification",
    "copies",
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
# The control plane's models to the main cluster while a connection serves an agency placed on
# another one (tenants.clusters); no opinion with a single cluster. Then django-tenants' router.
DATABASE_ROUTERS = ["tenants.clusters.ClusterRouter", "django_tenants.routers.TenantSyncRouter"]

ROOT_URLCONF = "config.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"

MIDDLEWARE = [
    # First: every request is counted and timed; /metrics is answered here, on any host, to
    # the monitoring only (ops.metrics); then each request gets its id for the logs.
    "ops.metrics.MetricsMiddleware",
    "ops.logs.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before routing, so that every page gets them, an unknown host's 404 page too.
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ops.headers.PermissionsPolicyMiddleware",
    "ops.headers.ExternalFormTargetsMiddleware",
    "tenants.routing.AgencyRoutingMiddleware",
    # NUL characters refused, text normalised to NFC, before anything reads the request.
    "core.inputs.RequestInputMiddleware",  # its API refusals: INPUT_JSON_REFUSAL
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
    "vneid.middleware.StaffVNeIDMiddleware",
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
                "portal.context_processors.branding",
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


# django-tenants' backend whose default connection follows the active agency's cluster.
DATABASE_ENGINE = "tenants.cluster_backend"


def database_from_url(url: str) -> dict[str, Any]:
    config: dict[str, Any] = env.db_url_config(url)
    config["ENGINE"] = DATABASE_ENGINE
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
    # Issued e-invoices not yet coded by the tax authority: sent, or asked for their status.
    "billing-einvoices-send": {
        "task": "billing.tasks.einvoices_send_due",
        "schedule": crontab(minute="*/10"),
    },
    # Yesterday's reconciliation files of the national payment platform (citizens' fees).
    "dossiers-fee-national-reconcile": {
        "task": "lifecycle.tasks.fee_national_reconcile_daily",
        "schedule": crontab(hour=6, minute=20),
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
# The National Public Service Portal's payment platform (Cổng DVCQG, "nền tảng thanh toán"),
# a gateway for citizens' fees: its base URL, our partner code there and the shared secret that
# signs requests, callbacks and reconciliation files (HMAC-SHA256). Empty URL: not offered.
NATIONAL_PAYMENT_URL = env.str("NATIONAL_PAYMENT_URL", default="")
NATIONAL_PAYMENT_PARTNER = env.str("NATIONAL_PAYMENT_PARTNER", default="MOTCUA")
NATIONAL_PAYMENT_SECRET = env.str("NATIONAL_PAYMENT_SECRET", default="")

# The provider as the seller on its invoices (legal e-invoices) and the account agencies pay
# into by bank transfer (VietQR: the bank's 6-digit NAPAS BIN and the account number).
BILLING_SELLER = {
    "name": env.str("BILLING_SELLER_NAME", default="Công ty Cổ phần Dịch vụ MotCua Cloud"),
    "tax_code": env.str("BILLING_SELLER_TAX_CODE", default="0109999999"),
    "address": env.str(
        "BILLING_SELLER_ADDRESS", default="Số 1 Phố Duy Tân, Phường Cầu Giấy, Thành phố Hà Nội"
    ),
    "bank_bin": env.str("BILLING_BANK_BIN", default="970436"),
    "bank_account": env.str("BILLING_BANK_ACCOUNT", default="0011004099999"),
    "bank_name": env.str(
        "BILLING_BANK_NAME", default="Ngân hàng TMCP Ngoại thương Việt Nam (Vietcombank)"
    ),
}
# The bank's notifications of incoming transfers (POST /billing/bank/webhook/), signed with
# this shared secret (HMAC-SHA256); older than the tolerance is refused as a replay.
BANK_WEBHOOK_SECRET = env.str("BANK_WEBHOOK_SECRET", default="")
BANK_WEBHOOK_TOLERANCE_SECONDS = env.int("BANK_WEBHOOK_TOLERANCE_SECONDS", default=300)
# Legal e-invoices: form symbol 1 (VAT invoice), series C<yy>T<suffix> (C: with the tax
# authority's code, T: registered by the seller), sent through an e-invoice provider plugin
# (billing.einvoice.providers), signed with the provider's certificate: a PKCS#12 file and its
# password, never in the database or the repository. Without a provider URL nothing is sent
# (issued invoices wait, "to send", for one to be configured).
EINVOICE_FORM_SYMBOL = env.str("EINVOICE_FORM_SYMBOL", default="1")
EINVOICE_SERIES_SUFFIX = env.str("EINVOICE_SERIES_SUFFIX", default="AA")
EINVOICE_PROVIDER = env.str("EINVOICE_PROVIDER", default="tvan")
EINVOICE_PROVIDER_URL = env.str("EINVOICE_PROVIDER_URL", default="")
EINVOICE_PROVIDER_TOKEN = env.str("EINVOICE_PROVIDER_TOKEN", default="")
EINVOICE_SIGNING_P12 = env.str("EINVOICE_SIGNING_P12", default="")
EINVOICE_SIGNING_PASSWORD = env.str("EINVOICE_SIGNING_PASSWORD", default="")

# Signed documents (documents app): each agency's PKCS#12 key material under its own folder of
# SIGNING_KEY_ROOT (never the database or the repository; see documents/keys.py), the trusted
# roots a signature must chain to, and the RFC 3161 timestamp server (none: no timestamp).
SIGNING_KEY_ROOT = env.path("SIGNING_KEY_ROOT", default=str(BASE_DIR / "var" / "signing"))
SIGNING_P12_PASSWORD = env.str("SIGNING_P12_PASSWORD", default="")
SIGNING_TRUST_ROOTS = env.list("SIGNING_TRUST_ROOTS", default=[])
SIGNING_TSA_URL = env.str("SIGNING_TSA_URL", default="")
# The public verification page (/xac-thuc/): the largest PDF it checks, uploads per client per
# 10 minutes (platform-wide).
VERIFICATION_MAX_BYTES = env.int("VERIFICATION_MAX_BYTES", default=20 * 1024 * 1024)
VERIFICATION_UPLOADS_PER_WINDOW = env.int("VERIFICATION_UPLOADS_PER_WINDOW", default=30)
# The address of an agency's portal, from its primary host: the QR codes printed on issued
# documents open <this>/xac-thuc/<reference>/ (issued where no request tells the host).
AGENCY_PORTAL_URL = env.str("AGENCY_PORTAL_URL", default="https://{host}")

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
# Account mails are written by notifications (the agency's templates); accounts hands them over.
ACCOUNT_MAIL_SENDER = "notifications.services.account_mail_send"
# What core.inputs answers an API request it refuses (a NUL, unreadable data): the API's shape.
INPUT_JSON_REFUSAL = "api.errors.input_refusal"
# Modules above billing that handle some Stripe webhook events (billing.webhooks.handles):
# a citizen's dossier fee paid through Stripe Checkout is confirmed by the dossier lifecycle.
BILLING_WEBHOOK_HANDLERS = ("lifecycle.fees",)
# Called by the notifications outbox after a message went out: a signed Form 04 becomes sent.
NOTIFICATIONS_ON_SENT = ("lifecycle.extend.apology_mark_sent",)
# Failed sign-ins, passwords and second-factor codes alike (allauth counts both as this
# action): 10 a minute per client, 5 in 5 minutes per account. Counted once for the whole
# platform, not per host (config.cache.make_key, accounts.adapter).
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
# VNeID (the national e-identity) through OpenID Connect: one app for every agency host; the
# redirect URI is https://<host>/accounts/vneid/callback/ (see vneid.provider).
SOCIALACCOUNT_ADAPTER = "vneid.adapter.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # an e-mail account links VNeID only when signed in
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS: dict[str, Any] = {
    "vneid": {
        "APPS": [
            {
                "provider_id": "vneid",
                "name": "VNeID",
                "client_id": env.str("VNEID_CLIENT_ID", default="motcua-cloud"),
                "secret": env.str("VNEID_CLIENT_SECRET", default=""),
                "settings": {
                    "server_url": env.str("VNEID_SERVER_URL", default="https://vneid.gov.vn"),
                    "oauth_pkce_enabled": True,
                    "token_auth_method": "client_secret_post",
                },
            }
        ],
        "SCOPE": ["openid", "profile", "email"],
    }
}
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
STATIC_ROOT: Path | None = env.path("STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
# Each agency's files live under <root>/<schema>/ (tenants/storage.py): MEDIA_ROOT/<schema>/ on
# local disk (django-tenants' storage), or <FILES_S3_PREFIX>/<schema>/ in a private S3 bucket
# when FILES_S3_BUCKET is set (production). Exit packs: EXIT_PACK_ROOT, or exit-packs/ there.
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
FILES_S3_BUCKET = env.str("FILES_S3_BUCKET", default="")
FILES_S3_PREFIX = env.str("FILES_S3_PREFIX", default="agencies")
FILE_UPLOAD_PERMISSIONS = 0o640


def file_storages(*, static_backend: str, exit_pack_root: str) -> dict[str, Any]:
    """The STORAGES setting: agency files and exit packs locally, or in the bucket."""
    if FILES_S3_BUCKET:
        s3: dict[str, Any] = {
            "bucket_name": FILES_S3_BUCKET,
            "endpoint_url": env.str("FILES_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("FILES_S3_REGION", default="") or None,
            # Unset: boto3's own chain (AWS_* variables, the pod's role, ...).
            "access_key": env.str("FILES_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("FILES_S3_SECRET_ACCESS_KEY", default="") or None,
            "querystring_expire": env.int("FILES_SIGNED_URL_SECONDS", default=300),
            "signature_version": "s3v4",  # signed URLs carry their expiry (X-Amz-Expires)
            "addressing_style": env.str("FILES_S3_ADDRESSING_STYLE", default="") or None,
        }
        files = {
            "BACKEND": "tenants.storage.AgencyS3Storage",
            "OPTIONS": {**s3, "location": FILES_S3_PREFIX},
        }
        packs = {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**s3, "location": "exit-packs", "file_overwrite": False},
        }
    else:
        files = {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"}
        packs = {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": exit_pack_root},
        }
    return {"default": files, "exit_packs": packs, "staticfiles": {"BACKEND": static_backend}}


EXIT_PACK_ROOT = env.path("EXIT_PACK_ROOT", default=str(BASE_DIR / "var" / "exit-packs"))
STORAGES = file_storages(
    static_backend="whitenoise.storage.CompressedManifestStaticFilesStorage",
    exit_pack_root=str(EXIT_PACK_ROOT),
)

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MotCua Cloud <no-reply@motcua.vn>")

# --- Logging ---------------------------------------------------------------------------------
# Every record carries the agency (schema) and the request's or task's id (ops.logs);
# LOG_FORMAT=json writes one JSON object a line (production's default), plain otherwise.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")


def logging_config(log_format: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "ops.logs.ContextFilter"}},
        "formatters": {
            "plain": {
                "format": "%(asctime)s %(levelname)s %(name)s [%(agency)s %(request_id)s]: "
                "%(message)s"
            },
            "json": {"()": "ops.logs.json_formatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if log_format == "json" else "plain",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # The stripe library logs every request at INFO; its errors reach us as exceptions.
            "stripe": {"level": "WARNING"},
        },
    }


LOGGING = logging_config(LOG_FORMAT)

# --- Errors: Sentry (optional) -----------------------------------------------------------------
SENTRY_DSN = env.str("SENTRY_DSN", default="")
# The release running (the image's tag): Sentry events and /metrics carry it.
RELEASE = env.str("MOTCUA_RELEASE", default="")

# --- Monitoring: /metrics (ops.metrics) ---------------------------------------------------------
# Served to a bearer of METRICS_TOKEN or to a client in METRICS_ALLOWED_NETWORKS (CIDRs, e.g.
# the cluster's pod network); to nobody when both are empty.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
METRICS_CACHE_SECONDS = env.int("METRICS_CACHE_SECONDS", default=10)
# --- Database clusters (tenants.clusters, infra/README.md "Several clusters") ----------------
# The main cluster (DATABASE_URL: the control plane, and agencies placed on it) is named
# DATABASE_CLUSTER_NAME (also the `cluster` label of the metrics). Other clusters hold agency
# schemas only: DATABASE_CLUSTERS="hn=postgresql://app@pg-hn/motcua hcm=postgresql://…" (the
# application role), DATABASE_OWNER_CLUSTERS the same for the owner role. Unset: one server.
DATABASE_CLUSTER_NAME = env.str("DATABASE_CLUSTER_NAME", default="main")
DATABASE_CLUSTER_URLS = env.str("DATABASE_CLUSTERS", default="")
DATABASE_OWNER_CLUSTER_URLS = env.str("DATABASE_OWNER_CLUSTERS", default="")
# Where new agencies go when their province is not pinned to a cluster: "fewest_agencies" (the
# open cluster holding the fewest) or "main". Clusters listed here take no new agency.
DATABASE_CLUSTER_PLACEMENT = env.str("DATABASE_CLUSTER_PLACEMENT", default="fewest_agencies")
DATABASE_CLUSTERS_CLOSED = env.list("DATABASE_CLUSTERS_CLOSED", default=[])
# A connection that has served this many agency schemas is replaced before the next one, so a
# server backend's caches stay bounded: ≈ 255 kB of private memory per schema read, 250 MiB after
# 1,000 (``dev.py bench schema_cost``); 150 keeps one backend near 56 MiB. 0: unbounded.
DATABASE_MAX_SCHEMAS_PER_CONNECTION = env.int("DATABASE_MAX_SCHEMAS_PER_CONNECTION", default=150)


def parse_cluster_urls(value: str) -> dict[str, str]:
    """``"hn=postgresql://… hcm=postgresql://…"`` → ``{"hn": "postgresql://…", ...}``.

    Separated by whitespace (a libpq multi-host URL has commas of its own).
    """
    result: dict[str, str] = {}
    for item in value.split():
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise ValueError(f"DATABASE_CLUSTERS: expected name=URL, got {item!r}")
        if not name.replace("_", "").replace("-", "").isalnum() or name.lower() != name:
            raise ValueError(f"DATABASE_CLUSTERS: bad cluster name {name!r} (a-z, 0-9, -, _)")
        result[name] = url
    return result


def database_clusters(role: str = DATABASE_ROLE) -> dict[str, dict[str, Any]]:
    """The other clusters' database settings, for the process's role (``app`` or ``owner``)."""
    app = parse_cluster_urls(DATABASE_CLUSTER_URLS)
    owner = parse_cluster_urls(DATABASE_OWNER_CLUSTER_URLS)
    urls = {name: owner.get(name, url) for name, url in app.items()} if role == "owner" else app
    return {name: database_from_url(url) for name, url in urls.items()}


DATABASE_CLUSTERS = database_clusters()
# A command's child processes (migrate_agencies over every cluster) get the parent's clusters
# exactly as it had them (tenants.clusters.child_environment).
if _clusters_json := env.str("MOTCUA_DATABASE_CLUSTERS_JSON", default=""):
    import json

    DATABASE_CLUSTERS = json.loads(_clusters_json)
