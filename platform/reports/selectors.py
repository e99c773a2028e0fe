"""Reading the statistics: the figures an agency, a province or the provider is judged by.

Everything over a period comes from the rollup table (public schema) in one grouped query;
only the dossiers still open are counted live, from the agency's own schema.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from dossiers.models import Dossier, DossierStatus
from reports.models import DailyAgencyStat, Metric, MonthlyAgencyStat

M = Metric
CHANNEL_METRICS = (
    M.RECEIVED_ONLINE,
    M.RECEIVED_DESK,
    M.RECEIVED_POST,
    M.RECEIVED_NATIONAL_PORTAL,
)
RESOLVED_METRICS = (M.RESOLVED_EARLY, M.RESOLVED_ON_TIME, M.RESOLVED_LATE)


def _share(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


@dataclass
class Figures:
    """Totals per metric over a period, and what is derived from them."""

    n: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, metric: str, n: int, total: int) -> None:
        self.n[metric] += n
        self.total[metric] += total

    def count(self, metric: str) -> int:
        return self.n.get(metric, 0)

    @property
    def received(self) -> int:
        return sum(self.count(m) for m in CHANNEL_METRICS)

    @property
    def by_channel(self) -> list[tuple[str, int]]:
        return [(str(m.label), self.count(m)) for m in CHANNEL_METRICS]

    @property
    def online(self) -> int:
        return self.count(M.RECEIVED_ONLINE) + self.count(M.RECEIVED_NATIONAL_PORTAL)

    @property
    def resolved(self) -> int:
        return sum(self.count(m) for m in RESOLVED_METRICS)

    @property
    def early(self) -> int:
        return self.count(M.RESOLVED_EARLY)

    @property
    def on_time(self) -> int:
        return self.count(M.RESOLVED_ON_TIME)

    @property
    def late(self) -> int:
        return self.count(M.RESOLVED_LATE)

    @property
    def on_time_rate(self) -> float | None:
        """Early or on time, as a share of all resolved."""
        return _share(self.early + self.on_time, self.resolved)

    @property
    def average_days(self) -> float | None:
        days = sum(self.total.get(m, 0) for m in RESOLVED_METRICS)
        return round(days / self.resolved, 1) if self.resolved else None

    @property
    def online_share(self) -> float | None:
        return _share(self.online, self.received)

    @property
    def online_payment_share(self) -> float | None:
        return _share(self.count(M.PAID_ONLINE), self.count(M.FEE_DUE))

    @property
    def satisfaction(self) -> float | None:
        rated = self.count(M.RATED)
        return round(self.total.get(M.RATED, 0) / rated, 2) if rated else None

    def as_dict(self) -> dict[str, Any]:
        """Plain numbers (for caching and the API)."""
        return {"n": dict(self.n), "total": dict(self.total)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Figures:
        figures = cls()
        for metric, n in data["n"].items():
            figures.add(metric, n, data["total"].get(metric, 0))
        return figures


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def split_period(
    start: dt.date, end: dt.date, today: dt.date | None = None
) -> tuple[list[tuple[dt.date, dt.date]], tuple[dt.date, dt.date] | None]:
    """The period as day ranges read from the daily rows and a range of whole months read
    from the monthly rows. A month counts as whole when the period covers it up to its end,
    or up to today (nothing has happened after today)."""
    today = today or timezone.localdate()
    first = start if start.day == 1 else next_month(start)
    month, last_full = first, None
    while month <= end:
        month_end = next_month(month) - dt.timedelta(days=1)
        if not (month_end <= end or today <= end):
            break
        last_full = month
        month = next_month(month)
    if last_full is None:
        return [(start, end)], None
    days = []
    if start < first:
        days.append((start, first - dt.timedelta(days=1)))
    after = next_month(last_full)
    if after <= end:
        days.append((after, end))
    return days, (first, last_full)


def _grouped(scope: Q, start: dt.date, end: dt.date, key: str | None) -> Iterator[Any]:
    """``(key value, metric, n, total)`` over the period, from the monthly rows for its
    whole months and the daily rows for the rest; a key appears once per source."""
    days, months = ([(start, end)], None) if key == "day" else split_period(start, end)
    fields = [key, "metric"] if key else ["metric"]
    sources: list[Any] = []
    if days:
        in_days = Q()
        for first, last in days:
            in_days |= Q(day__gte=first, day__lte=last)
        sources.append(DailyAgencyStat.objects.filter(scope, in_days))
    if months:
        sources.append(
            MonthlyAgencyStat.objects.filter(scope, month__gte=months[0], month__lte=months[1])
        )
    for rows in sources:
        grouped = rows.values(*fields).annotate(n_=Sum("n"), t_=Sum("total")).order_by()
        for row in grouped.values_list(*fields, "n_", "t_"):
            yield row if key else (None, *row)


def figures(*, scope: Q, start: dt.date, end: dt.date) -> Figures:
    """The figures of every rollup row in ``scope`` (e.g. ``Q(agency_id=…)``,
    ``Q(province_code=…)``, ``Q()`` for all) over the period."""
    result = Figures()
    for _key, metric, n, total in _grouped(scope, start, end, None):
        result.add(metric, int(n), int(total))
    return result


def figures_by(*, scope: Q, start: dt.date, end: dt.date, key: str) -> dict[Any, Figures]:
    """The figures grouped by one column: ``agency_id``, ``province_code``,
    ``procedure_code``, ``sector`` or ``day``."""
    result: dict[Any, Figures] = defaultdict(Figures)
    for value, metric, n, total in _grouped(scope, start, end, key):
        result[value].add(metric, int(n), int(total))
    return dict(result)


@dataclass
class Breakdown:
    """The figures of a scope over a period, overall and grouped by several columns."""

    overall: Figures
    by: dict[str, dict[Any, Figures]]


def _sources(scope: Q, start: dt.date, end: dt.date) -> list[Any]:
    days, months = split_period(start, end)
    sources: list[Any] = []
    if days:
        in_days = Q()
        for first, last in days:
            in_days |= Q(day__gte=first, day__lte=last)
        sources.append(DailyAgencyStat.objects.filter(scope, in_days))
    if months:
        sources.append(
            MonthlyAgencyStat.objects.filter(scope, month__gte=months[0], month__lte=months[1])
        )
    return sources


BREAKDOWN_KEYS = ("agency_id", "province_code", "procedure_code", "sector")


def breakdown(*, scope: Q, start: dt.date, end: dt.date, keys: Sequence[str]) -> Breakdown:
    """Overall figures and figures per key, from one scan of each source table (grouping
    sets) rather than one query per key."""
    keys = [k for k in keys if k in BREAKDOWN_KEYS]
    result = Breakdown(Figures(), {k: defaultdict(Figures) for k in keys})
    sets = ", ".join([*(f"({k}, metric)" for k in keys), "(metric)"])
    grouping = "".join(f", GROUPING({k})" for k in keys)
    columns = ", ".join([*keys, "metric"])
    for rows in _sources(scope, start, end):
        inner, params = rows.values(*keys, "metric", "n", "total").query.sql_with_params()
        sql = (
            f"SELECT {columns}, sum(n), sum(total){grouping} "  # noqa: S608 - our columns
            f"FROM ({inner}) AS t GROUP BY GROUPING SETS ({sets})"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            # Room to hash every grouping set in one pass instead of sorting for each.
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute(sql, params)
            for row in cursor.fetchall():
                width = len(keys)
                values, metric = row[:width], row[width]
                n, total, flags = row[width + 1], row[width + 2], row[width + 3 :]
                target = result.overall
                for key, value, flag in zip(keys, values, flags, strict=True):
                    if flag == 0:
                        target = result.by[key][value]
                target.add(metric, int(n), int(total))
    result.by = {k: dict(v) for k, v in result.by.items()}
    return result


def received_by_month(*, scope: Q, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    """Dossiers received per month (keyed by its first day), whole months from the monthly
    rows."""
    result: dict[dt.date, int] = defaultdict(int)
    received = Q(metric__in=CHANNEL_METRICS)
    for rows in _sources(scope, start, end):
        period = "day" if rows.model is DailyAgencyStat else "month"
        grouped = rows.filter(received).values(period).annotate(n_=Sum("n")).order_by()
        for when, n in grouped.values_list(period, "n_"):
            result[when.replace(day=1)] += int(n)
    return dict(result)


@dataclass(frozen=True)
class OpenDossiers:
    within_due: int
    past_due: int
    paused: int

    @property
    def total(self) -> int:
        return self.within_due + self.past_due + self.paused


def open_dossiers(*, today: dt.date | None = None) -> OpenDossiers:
    """The active agency's dossiers still in processing, within or past their due date, and
    those paused for a supplement (their clock stands still). One query on the status/due
    index."""
    today = today or timezone.localdate()
    running = (DossierStatus.RECEIVED, DossierStatus.IN_PROCESSING, DossierStatus.TRANSFERRED)
    counts = Dossier.objects.filter(
        status__in=[*running, DossierStatus.SUPPLEMENT_REQUESTED]
    ).aggregate(
        within=Count("pk", filter=Q(status__in=running, due_date__gte=today)),
        past=Count("pk", filter=Q(status__in=running, due_date__lt=today)),
        paused=Count("pk", filter=Q(status=DossierStatus.SUPPLEMENT_REQUESTED)),
    )
    return OpenDossiers(counts["within"], counts["past"], counts["paused"])


def export_rows(*, scope: Q, start: dt.date, end: dt.date) -> Iterator[tuple[Any, ...]]:
    """Every rollup row of the scope and period, in order, fetched in chunks from a
    server-side cursor (bounded memory whatever the count)."""
    rows = (
        DailyAgencyStat.objects.filter(scope, day__gte=start, day__lte=end)
        .order_by("day", "agency_id", "procedure_code", "metric")
        .values_list("day", "agency__slug", "procedure_code", "sector", "metric", "n", "total")
    )
    yield from rows.iterator(chunk_size=5000)
