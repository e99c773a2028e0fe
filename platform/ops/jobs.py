"""Scheduled jobs run once at a time, however many beat processes send them.

Every task named in ``CELERY_BEAT_SCHEDULE`` is guarded by the app's task class
(:class:`GuardedTask`, config/celery_app.py): before its body runs it takes a PostgreSQL
advisory lock named after the job, on a connection of its own, held until the body returns.
A second run of the same job sent meanwhile (a second beat during a roll-out, a beat restarted
mid-minute, a hand-sent task) finds the lock taken and returns ``{"skipped": "running
elsewhere"}`` at once. A worker that dies mid-job drops its connection, and PostgreSQL
releases the lock with it: no stale lock to clear.

Each outcome is counted in Redis (``ops.metrics`` exposes the counts and the last start and
finish of every job).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from celery.exceptions import Retry
from django.conf import settings
from django.core.cache import caches
from django.db import connection as django_connection
from tenant_schemas_celery.task import TenantTask

from core.failpoints import failpoint
from tenants.schemas import advisory_key

logger = logging.getLogger(__name__)
SKIPPED = {"skipped": "running elsewhere"}
COUNTER_TTL = 60 * 60 * 24 * 400


@contextlib.contextmanager
def job_lock(name: str) -> Iterator[bool]:
    """Hold the job's advisory lock for the block; yields False if another run holds it."""
    params = django_connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params, autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [advisory_key(f"job:{name}")])
        acquired = bool(row.fetchone()[0])  # type: ignore[index]
        try:
            yield acquired
        finally:
            if acquired:
                conn.execute("SELECT pg_advisory_unlock(%s)", [advisory_key(f"job:{name}")])


def _count(name: str, outcome: str) -> None:
    cache = caches["platform"]
    key = f"jobs:{name}:{outcome}"
    try:
        cache.add(key, 0, timeout=COUNTER_TTL)
        cache.incr(key)
        cache.set(f"jobs:{name}:last_{outcome}_at", time.time(), timeout=COUNTER_TTL)
    except Exception:  # counting never breaks a job
        logger.warning("could not count job %s %s", name, outcome)


def job_counts(name: str) -> dict[str, float]:
    cache = caches["platform"]
    keys = {
        outcome: f"jobs:{name}:{outcome}"
        for outcome in ("started", "finished", "skipped", "failed")
    }
    found = cache.get_many(list(keys.values()))
    counts = {outcome: float(found.get(key, 0) or 0) for outcome, key in keys.items()}
    for outcome in ("started", "finished"):
        counts[f"last_{outcome}_at"] = float(cache.get(f"jobs:{name}:last_{outcome}_at") or 0)
    return counts


def guarded(name: str, run: Callable[..., Any]) -> Callable[..., Any]:
    """``run`` wrapped so that one run of job ``name`` at most is in progress anywhere."""

    @functools.wraps(run)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with job_lock(name) as acquired:
            if not acquired:
                _count(name, "skipped")
                logger.info("job %s is running elsewhere: this run is skipped", name)
                return dict(SKIPPED)
            _count(name, "started")
            failpoint(f"job.{name}")  # tests hold a job here to overlap two runs
            try:
                result = run(*args, **kwargs)
            except Retry:  # it comes back by itself: neither finished nor failed
                raise
            except Exception:
                _count(name, "failed")
                raise
            _count(name, "finished")
            return result

    return wrapper


def scheduled_task_names() -> frozenset[str]:
    return frozenset(
        entry["task"] for entry in getattr(settings, "CELERY_BEAT_SCHEDULE", {}).values()
    )


class GuardedTask(TenantTask):  # type: ignore[misc]  # tenant-schemas-celery has no types
    """The app's task class (config/celery_app.py): a task of the beat schedule runs guarded."""

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.name in scheduled_task_names():
            return guarded(self.name, super().__call__)(*args, **kwargs)
        return super().__call__(*args, **kwargs)
