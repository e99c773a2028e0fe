"""Health checks of the services the product depends on: database, cache, broker; and, on the
provider's host, whether billing's meter events reach Stripe.

A check fails by raising. Critical checks (the services) make the endpoint answer 503; a
non-critical one (stuck meter events) marks it "degraded" with the figures, but still 200: a
load balancer must not take web servers out of service because Stripe lags behind.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery import current_app as celery_app  # config.celery_app, set as the default
from django.core.cache import caches
from django.utils import timezone

from tenants.db import connection


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    millis: float
    error: str = ""
    critical: bool = True
    detail: dict[str, Any] = field(default_factory=dict)


class CheckFailed(Exception):
    """A failed check that has figures to show."""

    def __init__(self, message: str, detail: dict[str, Any]) -> None:
        super().__init__(message)
        self.detail = detail


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("unexpected answer to SELECT 1")


def check_cache() -> None:
    cache = caches["platform"]
    key, value = f"health:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("cache did not return what was stored")
    cache.delete(key)


def check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        client = getattr(conn.default_channel, "client", None)
        if client is not None:  # the Redis transport: a real round trip to the broker
            client.ping()


def check_meter_outbox() -> dict[str, Any]:
    """Usage rows Stripe has not been told though it should (billing.outbox): stuck ones."""
    from billing.selectors import meter_outbox_health

    figures = meter_outbox_health(now=timezone.now())
    if figures["stuck"]:
        raise CheckFailed(
            f"{figures['stuck']} meter event(s) not reported to Stripe"
            f" ({figures['attention']} need attention): see /console/billing/",
            figures,
        )
    return figures


def check_einvoice_signing() -> dict[str, Any]:
    """The provider's e-invoice signing certificate can sign now (and is not about to expire)."""
    from billing.einvoice.services import einvoice_signing_problem

    problem = einvoice_signing_problem()
    if problem:
        raise CheckFailed(f"e-invoices: {problem}: see /console/billing/", {})
    return {}


CHECKS: dict[str, Callable[[], Any]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}
# Shown on the provider's (public) host only; failing them does not fail the endpoint.
PROVIDER_CHECKS: dict[str, Callable[[], Any]] = {
    "meter_outbox": check_meter_outbox,
    "einvoice_signing": check_einvoice_signing,
}


def run_checks(*, provider: bool = False) -> list[CheckResult]:
    results = []
    checks = [(name, check, True) for name, check in CHECKS.items()]
    if provider:
        checks += [(name, check, False) for name, check in PROVIDER_CHECKS.items()]
    for name, check, critical in checks:
        started = time.perf_counter()
        try:
            answer = check()
        except Exception as exc:
            message = str(exc) if isinstance(exc, CheckFailed) else repr(exc)
            results.append(
                CheckResult(name, False, (time.perf_counter() - started) * 1000, message[:300],
                            critical, getattr(exc, "detail", {}))
            )  # fmt: skip
        else:
            detail = answer if isinstance(answer, dict) else {}
            elapsed = (time.perf_counter() - started) * 1000
            results.append(CheckResult(name, True, elapsed, critical=critical, detail=detail))
    return results
