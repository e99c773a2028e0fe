"""Local development: embedded PostgreSQL/Redis unless URLs are given, mail and SMS kept in the
development inbox (/dev/hop-thu/)."""

from config.settings._services import services
from config.settings.base import *  # noqa: F403
from config.settings.base import (
    BASE_DIR,
    DATABASE_OWNER_URL,
    DATABASE_URL,
    EXIT_PACK_ROOT,
    REDIS_URL,
    RELEASE,
    SENTRY_DSN,
    env,
    file_storages,
)
from core.sentry import init_sentry

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY", default="local-only-not-a-secret-8f3b2c1d9e7a6f5b4c3d2e1f0a9b8c7d"
)
PLATFORM_BASE_DOMAIN = env.str("PLATFORM_BASE_DOMAIN", default="localhost")
PLATFORM_PUBLIC_HOSTS = env.list("PLATFORM_PUBLIC_HOSTS", default=["localhost", "127.0.0.1"])
# Development keys (python manage.py signing_dev_ca) under var/signing/, with this password.
SIGNING_P12_PASSWORD = env.str("SIGNING_P12_PASSWORD", default="local-only-signing-password")
# Portals run on the development server (python3 dev.py run: port 8000).
AGENCY_PORTAL_URL = env.str("AGENCY_PORTAL_URL", default="http://{host}:8000")
# Nothing is delivered: every e-mail and SMS is kept in the development inbox (ops.devinbox),
# listed per agency at /dev/hop-thu/ on every host.
DEV_INBOX_DIR = env.path("DEV_INBOX_DIR", default=str(BASE_DIR / "var" / "dev-inbox"))
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="ops.devinbox.EmailBackend")
NOTIFICATIONS_SMS_PROVIDER = env.str(
    "NOTIFICATIONS_SMS_PROVIDER", default="ops.devinbox.SmsProvider"
)
NOTIFICATIONS_SMS_ENABLED = env.bool("NOTIFICATIONS_SMS_ENABLED", default=True)

_services = services("local", DATABASE_URL, REDIS_URL, DATABASE_OWNER_URL)
DATABASES = _services["DATABASES"]
DATABASE_APP_ROLE = _services["DATABASE_APP_ROLE"]
DATABASE_OWNER = _services["DATABASE_OWNER"]
CACHES = _services["CACHES"]
CELERY_BROKER_URL = _services["CELERY_BROKER_URL"]
CELERY_RESULT_BACKEND = _services["CELERY_RESULT_BACKEND"]

init_sentry(SENTRY_DSN, environment="local", release=RELEASE)

# Static files straight from the source folders, no collectstatic step locally.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # served from the source folders; collectstatic is for production
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = file_storages(
    static_backend="django.contrib.staticfiles.storage.StaticFilesStorage",
    exit_pack_root=str(EXIT_PACK_ROOT),
)
