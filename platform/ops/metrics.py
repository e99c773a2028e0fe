"""Prometheus metrics at ``/metrics``, for the provider's monitoring only.

Why prometheus-client and not django-prometheus: django-prometheus counts database queries by
replacing the database ENGINE with its own wrapper, which cannot sit on django-tenants'
``postgresql_backend`` (the schema switching lives there); and its request metrics label by view
name, not by route pattern. What we need is small: the request counters and latency below, and
figures read at scrape time from PostgreSQL and Redis, which no library knows.

Served by :class:`MetricsMiddleware` before the agency routing, on any host (a scraper speaks to
a pod's address, not to an agency's name), and only to a caller with ``METRICS_TOKEN`` as bearer
token or from ``METRICS_ALLOWED_NETWORKS``; anyone else gets a 404, as if there were nothing.

Per process: ``motcua_http_requests_total{route,method,status}`` and
``motcua_http_request_duration_seconds{route,method}`` (route = the URL pattern, never the raw
path: bounded labels). With several gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` (an empty
folder per pod; infra/gunicorn.conf.py cleans up after a worker): every worker's counts are
summed. Read at scrape time (cached ``METRICS_CACHE_SECONDS`` in the platform cache, so that
N web pods scraped every 15 s cost one set of queries): Celery queue depths and task failures,
outbox lag per outbox, agencies by status, onboarding applications by state, schemas behind the
code's migrations, scheduled jobs, and database connections per cluster.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from celery import current_app as celery_app  # config.celery_app, set as the default
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "motcua_http_requests",
    "HTTP requests answered, by route pattern, method and status code.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "motcua_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
METRICS_PATH = "/metrics"
TASK_FAILURES_KEY = "motcua:metrics:task_failures"
TASK_RETRIES_KEY = "motcua:metrics:task_retries"


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return "unmatched"
    site = "agency" if getattr(request, "agency", None) is not None else "public"
    return f"{site}:/{match.route}"


def allowed(request: HttpRequest) -> bool:
    token = str(getattr(settings, "METRICS_TOKEN", "") or "")
    if token and request.headers.get("Authorization", "") == f"Bearer {token}":
        return True
    networks = getattr(settings, "METRICS_ALLOWED_NETWORKS", []) or []
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(net, strict=False) for net in networks)


class MetricsMiddleware:
    """Count and time every request; answer ``/metrics`` to those allowed (first middleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == METRICS_PATH:
            if not allowed(request):
                return HttpResponseNotFound()
            return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        REQUESTS.labels(route, request.method or "", str(response.status_code)).inc()
        LATENCY.labels(route, request.method or "").observe(time.perf_counter() - started)
        return response


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    platform = CollectorRegistry()
    platform.register(PlatformCollector())
    return generate_latest(registry) + generate_latest(platform)


# -- Celery (counted by the workers, in Redis) ---------------------------------------------------


def _redis() -> Any:
    return caches["platform"]._cache.get_client(write=True)  # type: ignore[attr-defined]


def count_task_failure(task_name: str) -> None:
    try:
        _redis().hincrby(TASK_FAILURES_KEY, task_name, 1)
    except Exception:  # a metric never breaks a task
        logger.warning("could not count the failure of %s", task_name)


def count_task_retry(task_name: str) -> None:
    try:
        _redis().hincrby(TASK_RETRIES_KEY, task_name, 1)
    except Exception:
        logger.warning("could not count the retry of %s", task_name)


# -- Read at scrape time --------------------------------------------------------------------------

# (name, help, labels, value); a name ending in _total is a counter, any other a gauge.
Sample = tuple[str, str, dict[str, str], float]


def _queues() -> Iterator[Sample]:
    names = {settings.CELERY_TASK_DEFAULT_QUEUE}
    names |= {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    with celery_app.connection_for_read() as conn:
        channel: Any = conn.default_channel  # the Redis transport's channel
        client = channel.client
        for name in sorted(names):
            yield (
                "motcua_celery_queue_length",
                "Tasks waiting in a Celery queue.",
                {"queue": name},
                float(client.llen(name)),
            )


def _task_counts() -> Iterator[Sample]:
    client = _redis()
    for key, metric, text in (
        (
            TASK_FAILURES_KEY,
            "motcua_celery_task_failures_total",
            "Celery tasks that failed, by task.",
        ),
        (TASK_RETRIES_KEY, "motcua_celery_task_retries_total", "Celery task retries, by task."),
    ):
        for task, count in sorted(client.hgetall(key).items()):
            yield metric, text, {"task": task.decode()}, float(count)


def _jobs() -> Iterator[Sample]:
    from ops.jobs import job_counts, scheduled_task_names

    for job in sorted(scheduled_task_names()):
        counts = job_counts(job)
        for outcome in ("started", "finished", "skipped", "failed"):
            yield (
                "motcua_job_runs_total",
                "Runs of a scheduled job, by outcome (skipped: running elsewhere).",
                {"job": job, "outcome": outcome},
                counts[outcome],
            )
        yield (
            "motcua_job_last_finished_timestamp_seconds",
            "When a scheduled job last finished (Unix time; 0: never).",
            {"job": job},
            counts["last_finished_at"],
        )


def _outboxes() -> Iterator[Sample]:
    from django.db.models import Count, Min
    from django.utils import timezone

    from billing.models import UNSENT, MeterEventOutbox
    from nationalsync.models import OutboxStatus, PortalOutbox

    now = timezone.now()
    lag_help = "Age of the oldest message an outbox has not delivered yet (0: empty)."
    size_help = "Messages an outbox has not delivered yet."
    for name, figures in (
        (
            "meter_events",
            MeterEventOutbox.objects.filter(status__in=UNSENT).aggregate(
                n=Count("id"), oldest=Min("created_at")
            ),
        ),
        (
            "national_portal",
            PortalOutbox.objects.exclude(status=OutboxStatus.ACKNOWLEDGED).aggregate(
                n=Count("id"), oldest=Min("created_at")
            ),
        ),
        ("notifications", _notifications_outbox()),
    ):
        oldest = figures["oldest"]
        lag = (now - oldest).total_seconds() if oldest else 0.0
        yield "motcua_outbox_lag_seconds", lag_help, {"outbox": name}, max(0.0, lag)
        yield "motcua_outbox_pending", size_help, {"outbox": name}, float(figures["n"] or 0)


def _notifications_outbox() -> dict[str, Any]:
    """Queued notifications of every live agency, 200 schemas per query (partial index)."""
    from django_tenants.utils import quote_schema_name

    from tenants.db import connection
    from tenants.models import Agency, AgencyStatus

    names = list(
        Agency.objects.filter(status__in=[AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED])
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )
    total, oldest = 0, None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [names])
        existing = sorted(row[0] for row in cursor.fetchall())
        for start in range(0, len(existing), 200):
            parts = [
                f"SELECT count(*) AS n, min(created_at) AS oldest FROM "  # noqa: S608
                f"{quote_schema_name(name)}.notifications_notification WHERE status = 'queued'"
                for name in existing[start : start + 200]
            ]
            cursor.execute(
                f"SELECT sum(n), min(oldest) FROM ({' UNION ALL '.join(parts)}) AS q"  # noqa: S608
            )
            n, first = cursor.fetchone()
            total += int(n or 0)
            if first is not None and (oldest is None or first < oldest):
                oldest = first
    return {"n": total, "oldest": oldest}


def _platform() -> Iterator[Sample]:
    from django.db.models import Count

    from onboarding.models import Application
    from tenants import schemas
    from tenants.models import Agency, SchemaState

    for row in Agency.objects.values("status").annotate(n=Count("id")).order_by("status"):
        yield "motcua_agencies", "Agencies by status.", {"status": row["status"]}, float(row["n"])
    for row in Application.objects.values("state").annotate(n=Count("id")).order_by("state"):
        yield (
            "motcua_onboarding_applications",
            "Onboarding applications by state (provisioning: in progress).",
            {"state": row["state"]},
            float(row["n"]),
        )
    code = schemas.migration_fingerprint()
    states = SchemaState.objects.exclude(schema_name=schemas.TEMPLATE_SCHEMA)
    total = states.count()
    behind = states.exclude(fingerprint=code).count()
    text = "Agency schemas, and those whose migrations differ from the code's (to migrate)."
    yield "motcua_schemas", text, {"state": "all"}, float(total)
    yield "motcua_schemas", text, {"state": "behind"}, float(behind)


def _database() -> Iterator[Sample]:
    from tenants.db import connection

    cluster = str(getattr(settings, "DATABASE_CLUSTER_NAME", "main"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(usename, ''), coalesce(state, ''), count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() GROUP BY 1, 2 ORDER BY 1, 2"
        )
        rows = cursor.fetchall()
        cursor.execute("SELECT setting::int FROM pg_settings WHERE name = 'max_connections'")
        limit = float(cursor.fetchone()[0])
    for user, state, count in rows:
        yield (
            "motcua_db_connections",
            "Connections to the database, by cluster, role and state (pg_stat_activity).",
            {"cluster": cluster, "role": user, "state": state or "none"},
            float(count),
        )
    yield (
        "motcua_db_max_connections",
        "The cluster's max_connections.",
        {"cluster": cluster},
        limit,
    )


SOURCES: dict[str, Callable[[], Iterator[Sample]]] = {
    "celery_queues": _queues,
    "celery_tasks": _task_counts,
    "jobs": _jobs,
    "outboxes": _outboxes,
    "platform": _platform,
    "database": _database,
}


def collect_samples() -> tuple[list[Sample], dict[str, float]]:
    """Every scrape-time figure, and per source 1 if it could not be read (never a 500)."""
    samples: list[Sample] = []
    errors: dict[str, float] = {}
    for name, source in SOURCES.items():
        try:
            samples.extend(source())
            errors[name] = 0.0
        except Exception:
            logger.exception("metrics source %s failed", name)
            errors[name] = 1.0
    return samples, errors


class PlatformCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        seconds = int(getattr(settings, "METRICS_CACHE_SECONDS", 10))
        cache = caches["platform"]
        cached = cache.get("metrics:platform") if seconds else None
        if cached is None:
            cached = collect_samples()
            if seconds:
                cache.set("metrics:platform", cached, timeout=seconds)
        samples, errors = cached
        families: dict[str, GaugeMetricFamily | CounterMetricFamily] = {}
        for name, text, labels, value in samples:
            family = families.get(name)
            if family is None:
                kind = CounterMetricFamily if name.endswith("_total") else GaugeMetricFamily
                family = families[name] = kind(
                    name.removesuffix("_total"), text, labels=list(labels)
                )
            family.add_metric(list(labels.values()), value)
        yield from families.values()
        failed = GaugeMetricFamily(
            "motcua_metrics_source_failed",
            "1 when a scrape-time source could not be read (see the logs).",
            labels=["source"],
        )
        for name, value in errors.items():
            failed.add_metric([name], value)
        yield failed
        release = GaugeMetricFamily(
            "motcua_release_info", "The release this process runs.", labels=["release"]
        )
        release.add_metric([str(getattr(settings, "RELEASE", ""))], 1.0)
        yield release
