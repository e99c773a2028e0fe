"""Reading the statistics: the figures an agency, a province or the provider is judged by.

Everything over a period comes from the rollup table (public schema) in one grouped query;
only the dossiers still open are counted live, from the agency's own schema.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from dossiers.models import Dossier, DossierStatus
from reports.models import DailyAgencyStat, Metric

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


def _rows(scope: Q, start: dt.date, end: dt.date) -> Any:
    return DailyAgencyStat.objects.filter(scope, day__gte=start, day__lte=end)


def figures(*, scope: Q, start: dt.date, end: dt.date) -> Figures:
    """The figures of every rollup row in ``scope`` (e.g. ``Q(agency_id=…)``,
    ``Q(province_code=…)``, ``Q()`` for all) over the period."""
    result = Figures()
    rows = _rows(scope, start, end).values("metric").annotate(n_=Sum("n"), t_=Sum("total"))
    for row in rows:
        result.add(row["metric"], int(row["n_"]), int(row["t_"]))
    return result


def figures_by(*, scope: Q, start: dt.date, end: dt.date, key: str) -> dict[Any, Figures]:
    """The figures grouped by one column: ``agency_id``, ``province_code``,
    ``procedure_code``, ``sector`` or ``day``."""
    result: dict[Any, Figures] = defaultdict(Figures)
    rows = _rows(scope, start, end).values(key, "metric").annotate(n_=Sum("n"), t_=Sum("total"))
    for row in rows.order_by():
        result[row[key]].add(row["metric"], int(row["n_"]), int(row["t_"]))
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
        _rows(scope, start, end)
        .order_by("day", "agency_id", "procedure_code", "metric")
        .values_list("day", "agency__slug", "procedure_code", "sector", "metric", "n", "total")
    )
    yield from rows.iterator(chunk_size=5000)
