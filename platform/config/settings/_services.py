"""Fill DATABASES, CACHES and the Celery broker from URLs, or from the embedded servers."""

from __future__ import annotations

from typing import Any

from config import embedded
from config.settings.base import (
    DATABASE_ENGINE,
    DATABASE_ROLE,
    broker_url_from_redis,
    caches_for,
    database_from_url,
    env,
)


def services(
    profile: str,
    database_url: str,
    redis_url: str,
    owner_url: str = "",
    *,
    role: str = DATABASE_ROLE,
) -> dict[str, Any]:
    """Return the settings that point Django and Celery at PostgreSQL and Redis.

    With a URL, that server is used; without one, the profile's embedded server
    under var/ is started (or reused). Same code either way. The ``default``
    database connects as the application role, or as the owner role when
    ``role`` is "owner" (``MOTCUA_DATABASE_ROLE=owner``: migrations); ``DATABASE_APP_ROLE`` and
    ``DATABASE_OWNER`` name the other one for the code that needs both.
    """
    if database_url:
        app = database_from_url(database_url)
        owner = database_from_url(owner_url) if owner_url else dict(app)
    else:
        pg = embedded.ensure_postgres(profile)
        app = {
            "ENGINE": DATABASE_ENGINE,
            "NAME": pg.name,
            "USER": pg.app,
            "PASSWORD": "",
            "HOST": pg.host,
            "PORT": str(pg.port),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
        owner = dict(app, USER=pg.owner)
    # DATABASE_NAME points a process at another database on the same server:
    # the Celery worker the tests start uses the test database this way.
    for database in (app, owner):
        database["NAME"] = env.str("DATABASE_NAME", default=database["NAME"])
    redis = redis_url or embedded.ensure_redis(profile)
    return {
        "DATABASES": {"default": dict(owner if role == "owner" else app)},
        "DATABASE_APP_ROLE": app["USER"],
        "DATABASE_OWNER": owner,
        "CACHES": caches_for(redis),
        "CELERY_BROKER_URL": broker_url_from_redis(redis),
        "CELERY_RESULT_BACKEND": broker_url_from_redis(redis),
        "EFFECTIVE_REDIS_URL": redis,
    }
