"""Keeping the statistics rollups (public schema) in step with dossier events.

Each ``stats_dossier_*`` function is called by the service that makes the event happen,
inside its transaction and with the agency's schema active: one ``INSERT … ON CONFLICT DO
UPDATE`` statement bumps the agency's row for the local day, procedure and metric, so the
rollup commits or rolls back with the event. ``stats_rebuild`` recomputes an agency's rows
from its schema; it must give exactly what the live upserts gave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from reports.models import RECEIVED_BY_CHANNEL, Metric
from tenants.context import agency_context
from tenants.db import connection
from tenants.models import Agency

DAILY = "reports_dailyagencystat"
MONTHLY = "reports_monthlyagencystat"


def _table(name: str) -> str:
    return f'"{get_public_schema_name()}"."{name}"'


def _active_agency() -> Agency:
    agency = connection.tenant
    if not isinstance(agency, Agency) or agency.schema_name == get_public_schema_name():
        raise RuntimeError("statistics are recorded with the agency's schema active")
    return agency


def stats_record(
    *, procedure_id: int, at: dt.datetime, entries: Sequence[tuple[str, int, int]]
) -> None:
    """Add ``(metric, n, total)`` entries to the active agency's rollup for the local day
    of ``at`` and the procedure (its national code and sector are read in the same
    statement)."""
    if not entries:
        return
    agency = _active_agency()
    day = timezone.localtime(at).date()
    values = ", ".join(["(%s, %s::bigint, %s::bigint)"] * len(entries))
    params: list[Any] = [agency.pk, agency.province_code, day]
    for metric, n, total in entries:
        params += [metric, n, total]
    params.append(procedure_id)
    columns = "agency_id, province_code, {period}, procedure_code, sector, metric, n, total"
    conflict = (
        "ON CONFLICT (agency_id, {period}, procedure_code, sector, metric) "
        "DO UPDATE SET n = s.n + excluded.n, total = s.total + excluded.total"
    )
    # One statement (one round trip) bumps the day's row and the month's row.
    sql = (
        "WITH v AS ("  # noqa: S608 - our tables, values are parameters
        "SELECT %s::integer AS agency_id, %s AS province_code, %s::date AS day, "
        "p.code AS procedure_code, p.sector, e.metric, e.n, e.total "
        f"FROM procedures_agencyprocedure p CROSS JOIN (VALUES {values}) AS e(metric, n, total) "
        "WHERE p.id = %s), "
        f"d AS (INSERT INTO {_table(DAILY)} AS s ({columns.format(period='day')}) "
        f"SELECT * FROM v {conflict.format(period='day')}) "
        f"INSERT INTO {_table(MONTHLY)} AS s ({columns.format(period='month')}) "
        "SELECT agency_id, province_code, date_trunc('month', day)::date, procedure_code, "
        f"sector, metric, n, total FROM v {conflict.format(period='month')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def processing_days(received: dt.datetime, completed: dt.datetime) -> int:
    """Calendar days from the local day received to the local day resolved."""
    return (timezone.localtime(completed).date() - timezone.localtime(received).date()).days


# -- One call per dossier event ----------------------------------------------------------


def stats_dossier_received(*, dossier: Any) -> None:
    entries = [(str(RECEIVED_BY_CHANNEL[dossier.channel]), 1, 0)]
    if dossier.fee_amount:
        entries.append((Metric.FEE_DUE.value, 1, 0))
    stats_record(procedure_id=dossier.procedure_id, at=dossier.received_at, entries=entries)


def stats_dossier_resolved(*, dossier: Any, outcome: str, at: dt.datetime) -> None:
    """A decision (approved or not granted), classified early / on time / late by the desk
    engine; ``total`` adds the processing days."""
    days = processing_days(dossier.received_at, at)
    stats_record(
        procedure_id=dossier.procedure_id, at=at, entries=[(f"resolved_{outcome}", 1, days)]
    )


def stats_dossier_event(*, procedure_id: int, metric: str, at: dt.datetime) -> None:
    """Refused, withdrawn, stopped, paused for a supplement, transferred, paid online."""
    stats_record(procedure_id=procedure_id, at=at, entries=[(metric, 1, 0)])


def stats_dossier_rated(*, dossier: Any, score: int, at: dt.datetime) -> None:
    stats_record(procedure_id=dossier.procedure_id, at=at, entries=[(Metric.RATED, 1, score)])


# -- Rebuild -----------------------------------------------------------------------------

# Every source of a live rollup, recomputed from the agency's own tables. Days are local
# days, as ``timezone.localtime`` gives them to the live path.
_REBUILD_SOURCES = """
SELECT d.received_at AS at, d.procedure_id, 'received_' || d.channel AS metric, 0 AS total
  FROM dossiers_dossier d
UNION ALL
SELECT d.received_at, d.procedure_id, 'fee_due', 0 FROM dossiers_dossier d WHERE d.fee_amount > 0
UNION ALL
SELECT d.completed_at, d.procedure_id, 'resolved_' || pr.outcome,
       ((d.completed_at AT TIME ZONE %(tz)s)::date - (d.received_at AT TIME ZONE %(tz)s)::date)
  FROM dossiers_dossier d JOIN desk_dossierprocess pr ON pr.dossier_id = d.id
 WHERE pr.outcome <> '' AND d.completed_at IS NOT NULL
UNION ALL
SELECT s.requested_at, d.procedure_id, 'supplement_paused', 0
  FROM desk_supplementrequest s JOIN dossiers_dossier d ON d.id = s.dossier_id
UNION ALL
SELECT r.refused_at, r.procedure_id, 'refused', 0 FROM desk_refusal r
UNION ALL
SELECT e.at, d.procedure_id,
       CASE e.action WHEN 'fee_paid_online' THEN 'paid_online' ELSE e.action END, 0
  FROM dossiers_dossierevent e JOIN dossiers_dossier d ON d.id = e.dossier_id
 WHERE e.action IN ('withdrawn', 'stopped', 'fee_paid_online', 'transferred')
UNION ALL
SELECT r.rated_at, d.procedure_id, 'rated', r.score
  FROM results_rating r JOIN dossiers_dossier d ON d.id = r.dossier_id
"""


def stats_rebuild(*, agency: Agency) -> int:
    """Recompute the agency's rollup rows (daily and monthly) from its schema, replacing
    them. Returns the number of daily rows written."""
    daily, monthly = _table(DAILY), _table(MONTHLY)
    params = {"agency": agency.pk, "province": agency.province_code, "tz": settings.TIME_ZONE}
    with transaction.atomic(), agency_context(agency), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {daily} WHERE agency_id = %s", [agency.pk])  # noqa: S608
        cursor.execute(f"DELETE FROM {monthly} WHERE agency_id = %s", [agency.pk])  # noqa: S608
        cursor.execute(
            f"INSERT INTO {daily} "  # noqa: S608 - our table, values are parameters
            "(agency_id, province_code, day, procedure_code, sector, metric, n, total) "
            "SELECT %(agency)s, %(province)s, (src.at AT TIME ZONE %(tz)s)::date, "
            "p.code, p.sector, src.metric, count(*), coalesce(sum(src.total), 0) "
            f"FROM ({_REBUILD_SOURCES}) src "
            "JOIN procedures_agencyprocedure p ON p.id = src.procedure_id "
            "GROUP BY 3, 4, 5, 6",
            params,
        )
        rows = int(cursor.rowcount)
        cursor.execute(
            f"INSERT INTO {monthly} "  # noqa: S608 - our table, values are parameters
            "(agency_id, province_code, month, procedure_code, sector, metric, n, total) "
            "SELECT agency_id, province_code, date_trunc('month', day)::date, procedure_code, "
            f"sector, metric, sum(n), sum(total) FROM {daily} WHERE agency_id = %(agency)s "
            "GROUP BY 1, 2, 3, 4, 5, 6",
            params,
        )
        return rows


def stats_rebuild_all(*, agencies: Iterable[Agency]) -> dict[str, int]:
    return {a.slug: stats_rebuild(agency=a) for a in agencies}


def stats_merge(
    *,
    source: Agency,
    target: Agency,
    effective_on: dt.date,
    procedure_codes: list[str] | None = None,
) -> dict[str, int]:
    """A merge (reorg) from ``effective_on``: figures before the date stay the source's (the
    old unit), figures from the date are the target's. The source's daily rows from the date
    are added into the target's and removed; the monthly rows of both, from the date's month,
    are recomputed from the daily ones. One transaction; running it again changes nothing.

    ``procedure_codes``: a split, only the figures of these procedures move."""
    daily, monthly = _table(DAILY), _table(MONTHLY)
    month = effective_on.replace(day=1)
    key = "agency_id, {period}, procedure_code, sector, metric"
    columns = "agency_id, province_code, {period}, procedure_code, sector, metric, n, total"
    only = "" if procedure_codes is None else " AND procedure_code = ANY(%s)"
    extra: list[object] = [] if procedure_codes is None else [list(procedure_codes)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {daily} AS s ({columns.format(period='day')}) "  # noqa: S608
            "SELECT %s, %s, day, procedure_code, sector, metric, n, total "
            f"FROM {daily} WHERE agency_id = %s AND day >= %s{only} "
            f"ON CONFLICT ({key.format(period='day')}) "
            "DO UPDATE SET n = s.n + excluded.n, total = s.total + excluded.total",
            [target.pk, target.province_code, source.pk, effective_on, *extra],
        )
        moved = int(cursor.rowcount)
        cursor.execute(
            f"DELETE FROM {daily} WHERE agency_id = %s AND day >= %s{only}",  # noqa: S608
            [source.pk, effective_on, *extra],
        )
        cursor.execute(
            f"DELETE FROM {monthly} WHERE agency_id IN (%s, %s) AND month >= %s",  # noqa: S608
            [source.pk, target.pk, month],
        )
        cursor.execute(
            f"INSERT INTO {monthly} ({columns.format(period='month')}) "  # noqa: S608
            "SELECT agency_id, min(province_code), date_trunc('month', day)::date, "
            "procedure_code, sector, metric, sum(n), sum(total) "
            f"FROM {daily} WHERE agency_id IN (%s, %s) AND day >= %s "
            "GROUP BY agency_id, date_trunc('month', day), procedure_code, sector, metric",
            [source.pk, target.pk, month],
        )
    return {"daily_rows_moved": moved}
