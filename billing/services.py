"""Writing the usage ledger, inside the transaction of the action being metered."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from billing.models import UsageEvent
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
            " created_at) VALUES (%s, %s, %s, %s, %s, now())"
            " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            [agency.pk, metric, Decimal(quantity), occurred_at, idempotency_key],
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
