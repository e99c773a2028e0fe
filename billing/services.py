"""The usage ledger: written inside the transaction of the action being metered, rolled up daily."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing.models import UsageDaily, UsageEvent
from tenants.db import connection
from tenants.models import Agency


def usage_record(
    *,
    agency: Agency,
    metric: str,
    idempotency_key: str,
    occurred_at: dt.datetime,
    quantity: Decimal | int = 1,
) -> UsageEvent | None:
    """Append a usage event; a repeated key is ignored (returns None).

    Call it inside the caller's transaction: all schemas share one database, so a
    rolled-back action leaves no usage behind.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("usage_record must run inside the metered action's transaction")
    # One statement, whichever schema is active: the ledger table is in public.
    table = f'"public"."{UsageEvent._meta.db_table}"'
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (agency_id, metric, quantity, occurred_at, idempotency_key,"  # noqa: S608
            " created_at) VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            [agency.pk, metric, Decimal(quantity), occurred_at, idempotency_key, timezone.now()],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return UsageEvent(
        pk=row[0],
        agency=agency,
        metric=metric,
        quantity=Decimal(quantity),
        occurred_at=occurred_at,
        idempotency_key=idempotency_key,
    )


def usage_rollup(*, first_day: dt.date, last_day: dt.date) -> int:
    """Recompute the daily rollups of [first_day, last_day] (local days) from the ledger.

    Exact and idempotent: a day is always the sum of its ledger rows, however late they came.
    Returns the number of (agency, metric, day) rows written.
    """
    tz = timezone.get_current_timezone_name()
    start = timezone.make_aware(dt.datetime.combine(first_day, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min))
    ledger = f'"public"."{UsageEvent._meta.db_table}"'
    daily = f'"public"."{UsageDaily._meta.db_table}"'
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {daily} WHERE day BETWEEN %s AND %s",  # noqa: S608 - our table names
            [first_day, last_day],
        )
        cursor.execute(
            f"INSERT INTO {daily} (agency_id, metric, day, quantity)"  # noqa: S608
            f" SELECT agency_id, metric, (occurred_at AT TIME ZONE %s)::date, sum(quantity)"
            f" FROM {ledger} WHERE occurred_at >= %s AND occurred_at < %s"
            " GROUP BY 1, 2, 3",
            [tz, start, end],
        )
        return int(cursor.rowcount)
