"""Benchmarks: like production (DEBUG off), on their own embedded servers unless URLs are given."""

from config.settings._services import services
from config.settings.base import *  # noqa: F403
from config.settings.base import (
    BASE_DIR,
    DATABASE_OWNER_URL,
    DATABASE_URL,
    REDIS_URL,
    env,
    file_storages,
)

DEBUG = False
SECRET_KEY = "bench-only-not-a-secret-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"  # noqa: S105
PLATFORM_BASE_DOMAIN = "localhost"
PLATFORM_PUBLIC_HOSTS = ["localhost", "127.0.0.1"]
SIGNING_KEY_ROOT = BASE_DIR / "var" / "bench-signing"
SIGNING_P12_PASSWORD = "bench-only-signing-key-password"  # noqa: S105
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "var" / "bench-media"))
EXIT_PACK_ROOT = BASE_DIR / "var" / "bench-exit-packs"
STORAGES = file_storages(
    static_backend="django.contrib.staticfiles.storage.StaticFilesStorage",
    exit_pack_root=str(EXIT_PACK_ROOT),
)
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

_services = services("bench", DATABASE_URL, REDIS_URL, DATABASE_OWNER_URL)
DATABASES = _services["DATABASES"]
DATABASE_APP_ROLE = _services["DATABASE_APP_ROLE"]
DATABASE_OWNER = _services["DATABASE_OWNER"]
DATABASES["default"]["NAME"] = env.str("BENCH_DATABASE_NAME", default="motcua_bench")
DATABASE_OWNER["NAME"] = DATABASES["default"]["NAME"]
CACHES = _services["CACHES"]
CELERY_BROKER_URL = _services["CELERY_BROKER_URL"]
CELERY_RESULT_BACKEND = _services["CELERY_RESULT_BACKEND"]
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # served from the source folders; collectstatic is for production
