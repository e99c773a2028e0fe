"""Test suite: its own embedded servers (or the URLs given), fast hashing, in-memory mail."""

from pathlib import Path

from config.settings._services import services
from config.settings.base import *  # noqa: F403
from config.settings.base import (
    BASE_DIR,
    DATABASE_OWNER_URL,
    DATABASE_URL,
    REDIS_URL,
    broker_url_from_redis,
    caches_for,
    database_clusters,
    env,
    file_storages,
)

DEBUG = False
SECRET_KEY = "test-only-not-a-secret-0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f"  # noqa: S105
PLATFORM_BASE_DOMAIN = "localhost"
PLATFORM_PUBLIC_HOSTS = ["localhost", "testserver", "127.0.0.1"]
AGENCY_PORTAL_URL = "http://{host}"
SIGNING_KEY_ROOT = BASE_DIR / "var" / "test-signing"
SIGNING_P12_PASSWORD = "test-only-signing-key-password"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A Celery worker started by a test writes its mail to files there (its locmem outbox lives in
# another process): see tests/browser/test_onboarding_journey.py.
if _mail_dir := env.str("MOTCUA_TEST_EMAIL_DIR", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = _mail_dir
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "var" / "test-media"))

# The test process signs in as the owner role (it creates the test database, migrates it and
# drops agency schemas) and runs every test's queries as the application role (SET ROLE, see
# tests/fixtures/database.py). The Celery worker it starts signs in as the application role.
_services = services(
    "test",
    DATABASE_URL,
    REDIS_URL,
    DATABASE_OWNER_URL,
    role=env.str("MOTCUA_DATABASE_ROLE", default="owner"),
)
DATABASES = _services["DATABASES"]
if not env.str("MOTCUA_DATABASE_CLUSTERS_JSON", default=""):
    DATABASE_CLUSTERS = database_clusters(env.str("MOTCUA_DATABASE_ROLE", default="owner"))
DATABASE_APP_ROLE = _services["DATABASE_APP_ROLE"]
DATABASE_OWNER = _services["DATABASE_OWNER"]
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_motcua")}
CACHES = _services["CACHES"]
CELERY_BROKER_URL = _services["CELERY_BROKER_URL"]
CELERY_RESULT_BACKEND = _services["CELERY_RESULT_BACKEND"]
# Runs side by side on the same servers (the clock matrix runs two at once): each shard has
# its own test database, Redis databases and files, so neither flushes, purges or drops
# what the other is using.
if _shard := env.int("MOTCUA_TEST_SHARD", default=0):
    DATABASES["default"]["TEST"]["NAME"] += f"_{_shard}"
    CACHES = caches_for(_services["EFFECTIVE_REDIS_URL"], db=1 + 2 * _shard)
    CELERY_BROKER_URL = CELERY_RESULT_BACKEND = broker_url_from_redis(
        _services["EFFECTIVE_REDIS_URL"], db=2 * _shard
    )
    MEDIA_ROOT = BASE_DIR / "var" / f"test-media-{_shard}"
    SIGNING_KEY_ROOT = BASE_DIR / "var" / f"test-signing-{_shard}"
EXIT_PACK_ROOT = Path(MEDIA_ROOT).parent / f"{Path(MEDIA_ROOT).name}-exit-packs"
# Local files (tests/fixtures/s3.py switches a test to the bucket of a loopback S3 server).
STORAGES = file_storages(
    static_backend="django.contrib.staticfiles.storage.StaticFilesStorage",
    exit_pack_root=str(EXIT_PACK_ROOT),
)
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # served from the source folders; collectstatic is for production
# SMS rows only where a test asks for them (tests/fixtures/sms.py turns them on with the fake).
NOTIFICATIONS_SMS_ENABLED = False

# The date-boundary runs (python3 dev.py test --clock WHEN) put every process of the run
# (pytest, the Celery worker and servers it starts) on one fake, ticking clock:
# MOTCUA_TEST_CLOCK is where the clock stood at the real instant MOTCUA_TEST_CLOCK_ANCHOR,
# so a process started later is as far past it as real time has moved on.
if _clock := env.str("MOTCUA_TEST_CLOCK", default=""):
    from config.testclock import clock_start

    clock_start(_clock)
