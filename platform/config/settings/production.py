"""Production: every secret and server comes from the environment; nothing embedded."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import (
    DATABASE_OWNER_URL,
    DATABASE_ROLE,
    DATABASE_URL,
    FILES_S3_BUCKET,
    REDIS_URL,
    RELEASE,
    SENTRY_DSN,
    broker_url_from_redis,
    caches_for,
    database_from_url,
    env,
    logging_config,
)
from core.sentry import init_sentry

if not DATABASE_URL or not REDIS_URL:
    raise ImproperlyConfigured("Production needs DATABASE_URL and REDIS_URL.")
# Files are shared by every web and worker host: object storage, unless one host is all there is.
if not FILES_S3_BUCKET and not env.bool("FILES_LOCAL_DISK", default=False):
    raise ImproperlyConfigured(
        "Production keeps files in object storage: set FILES_S3_BUCKET "
        "(or FILES_LOCAL_DISK=true on a single host)."
    )

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = False
# The web and the workers connect as the application role (DATABASE_URL), which owns nothing;
# manage.py's schema commands (migrate, migrate_agencies) as the owner (DATABASE_OWNER_URL).
DATABASE_OWNER = database_from_url(DATABASE_OWNER_URL or DATABASE_URL)
DATABASE_APP_ROLE = database_from_url(DATABASE_URL)["USER"]
DATABASES = {
    "default": dict(DATABASE_OWNER) if DATABASE_ROLE == "owner" else database_from_url(DATABASE_URL)
}
CACHES = caches_for(REDIS_URL)
CELERY_BROKER_URL = broker_url_from_redis(REDIS_URL)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# HTTPS only, for a year, on every agency's host too (all are subdomains of the base domain
# and served by us over TLS): what the browsers' HSTS preload list asks for.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)

init_sentry(
    SENTRY_DSN,
    environment=env.str("SENTRY_ENVIRONMENT", default="production"),
    release=RELEASE,
)
# One JSON object a line, with the agency and request id, for the log collector.
LOGGING = logging_config(env.str("LOG_FORMAT", default="json"))
