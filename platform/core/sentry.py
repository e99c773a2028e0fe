"""Sentry error reporting: optional, initialised from SENTRY_DSN, tagged with the agency and
the release (MOTCUA_RELEASE)."""

from __future__ import annotations

from typing import Any

import sentry_sdk


def init_sentry(dsn: str, *, environment: str, release: str = "", **options: Any) -> None:
    if not dsn:
        return
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.redis import RedisIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration(), RedisIntegration()],
        # No personal data is sent: sentry-sdk's default (its send_default_pii is deprecated).
        traces_sample_rate=0.0,
        release=release or None,
        **options,
    )


def tag_agency(*, schema_name: str, agency_name: str) -> None:
    """Tag everything reported from now on in this scope with the agency it concerns."""
    scope = sentry_sdk.get_isolation_scope()
    scope.set_tag("tenant.schema", schema_name)
    scope.set_tag("tenant.name", agency_name)
