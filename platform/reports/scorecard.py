"""The service-index scorecard: a live estimate of an agency's score on the national groups
(Decision 766/QĐ-TTg: publicity, progress and results, digitisation, online provision,
satisfaction, online payment), from this month's rollups and the agency's own data.

The weights and formulas are ours, after the decision's groups; they are shown on the page
with their inputs, so an agency can see why its score is what it is. ``score_from`` is pure
(known inputs → known score); ``agency_scorecard`` gathers the inputs for the active agency.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from dossiers.models import Dossier, DossierDocument, DossierStatus
from procedures.models import AgencyProcedure
from reports import selectors
from reports.models import Metric
from tenants.models import Agency

RUNNING = (DossierStatus.RECEIVED, DossierStatus.IN_PROCESSING, DossierStatus.TRANSFERRED)
HURT_LIMIT = 20


@dataclass(frozen=True)
class ScoreInputs:
    """Everything the score is computed from (counts over the month so far)."""

    procedures: int  # adopted
    published: int
    published_online: int  # published and accepting online submission
    received: int
    received_online: int  # online or via the national portal
    received_digitised: int  # with at least one electronic document
    resolved_early_on_time: int
    resolved_late: int
    open_past_due: int
    rated: int
    rating_total: int  # sum of scores 1–5
    fee_due: int
    paid_online: int


@dataclass(frozen=True)
class Group:
    key: str
    label: Promise
    weight: int
    formula: Promise
    rate: float | None  # 0..1, None without data

    @property
    def points(self) -> float | None:
        return None if self.rate is None else round(self.weight * self.rate, 1)

    @property
    def percent(self) -> float | None:
        return None if self.rate is None else round(self.rate * 100, 1)


@dataclass(frozen=True)
class Score:
    groups: list[Group]

    @property
    def total(self) -> float | None:
        """Points out of 100; groups without data are left out and the rest rescaled."""
        scored = [g for g in self.groups if g.rate is not None]
        weight = sum(g.weight for g in scored)
        if not weight:
            return None
        return round(sum(g.weight * (g.rate or 0.0) for g in scored) * 100 / weight, 1)


def _rate(part: int, whole: int) -> float | None:
    return min(part / whole, 1.0) if whole > 0 else None


def _mean(*rates: float | None) -> float | None:
    known = [r for r in rates if r is not None]
    return sum(known) / len(known) if known else None


def score_from(inputs: ScoreInputs) -> Score:
    i = inputs
    progress_whole = i.resolved_early_on_time + i.resolved_late + i.open_past_due
    groups = [
        Group(
            "publicity", _("Publicity and transparency"), 18,
            _("published procedures ÷ adopted procedures"),
            _rate(i.published, i.procedures),
        ),
        Group(
            "progress", _("Progress and results"), 20,
            _("resolved early or on time ÷ (resolved + open dossiers past due)"),
            _rate(i.resolved_early_on_time, progress_whole),
        ),
        Group(
            "digitisation", _("Digitisation"), 22,
            _("dossiers received with electronic documents ÷ dossiers received"),
            _rate(i.received_digitised, i.received),
        ),
        Group(
            "online", _("Online provision"), 12,
            _("mean of: published procedures accepting online submission ÷ published "
              "procedures, and dossiers received online ÷ dossiers received"),
            _mean(_rate(i.published_online, i.published), _rate(i.received_online, i.received)),
        ),
        Group(
            "satisfaction", _("Satisfaction"), 18,
            _("average rating ÷ 5"),
            _rate(i.rating_total, i.rated * 5),
        ),
        Group(
            "payment", _("Online payment"), 10,
            _("fees paid online ÷ dossiers received with a fee"),
            _rate(i.paid_online, i.fee_due),
        ),
    ]  # fmt: skip
    return Score(groups)


def projected_inputs(inputs: ScoreInputs, *, today: dt.date) -> ScoreInputs:
    """Month-end inputs if this month's pace continues: counts so far scaled by the days of
    the month over the days elapsed; dossiers already past due stay late (they can no longer
    be on time) and are added to the late ones; the procedures stay as they are."""
    days = calendar.monthrange(today.year, today.month)[1]
    factor = days / today.day

    def scale(n: int) -> int:
        return round(n * factor)

    i = inputs
    return ScoreInputs(
        procedures=i.procedures,
        published=i.published,
        published_online=i.published_online,
        received=scale(i.received),
        received_online=scale(i.received_online),
        received_digitised=scale(i.received_digitised),
        resolved_early_on_time=scale(i.resolved_early_on_time),
        resolved_late=scale(i.resolved_late) + i.open_past_due,
        open_past_due=0,
        rated=scale(i.rated),
        rating_total=scale(i.rating_total),
        fee_due=scale(i.fee_due),
        paid_online=scale(i.paid_online),
    )


def month_inputs(*, agency: Agency, today: dt.date) -> ScoreInputs:
    """This month's inputs for the active agency (``agency``): the rollups for the counts
    over the month, its own schema for procedures, digitisation and open dossiers."""
    start = today.replace(day=1)
    figures = selectors.figures(scope=Q(agency_id=agency.pk), start=start, end=today)
    procedures = AgencyProcedure.objects.aggregate(
        all=Count("pk"),
        published=Count("pk", filter=Q(is_published=True)),
        online=Count(
            "pk",
            filter=Q(is_published=True, online_submission=True) & ~Q(online_mode="none"),
        ),
    )
    month_start = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    digitised = (
        Dossier.objects.filter(received_at__gte=month_start)
        .filter(Exists(DossierDocument.objects.filter(dossier=OuterRef("pk"))))
        .count()
    )
    past_due = Dossier.objects.filter(status__in=RUNNING, due_date__lt=today).count()
    return ScoreInputs(
        procedures=procedures["all"],
        published=procedures["published"],
        published_online=procedures["online"],
        received=figures.received,
        received_online=figures.online,
        received_digitised=digitised,
        resolved_early_on_time=figures.early + figures.on_time,
        resolved_late=figures.late,
        open_past_due=past_due,
        rated=figures.count(Metric.RATED),
        rating_total=figures.total.get(Metric.RATED, 0),
        fee_due=figures.count(Metric.FEE_DUE),
        paid_online=figures.count(Metric.PAID_ONLINE),
    )


@dataclass(frozen=True)
class Scorecard:
    today: dt.date
    inputs: ScoreInputs
    now: Score
    projected: Score
    hurting: list[Dossier]


def hurting_dossiers(*, today: dt.date, limit: int = HURT_LIMIT) -> list[Dossier]:
    """The dossiers that hurt the score most: open ones past due or closest to it, and this
    month's late ones, earliest due first. One query (the status/due index serves the open
    part)."""
    start = timezone.make_aware(dt.datetime.combine(today.replace(day=1), dt.time.min))
    late_this_month = Q(completed_at__gte=start, due_date__lt=today) & ~Q(status__in=RUNNING)
    rows = (
        Dossier.objects.filter(Q(status__in=RUNNING) | late_this_month)
        .exclude(status=DossierStatus.SUPPLEMENT_REQUESTED)
        .select_related("procedure")
        .only("code", "status", "due_date", "completed_at", "procedure__code", "procedure__name")
        .order_by("due_date", "id")[: limit * 2]
    )
    result = []
    for dossier in rows:
        # Completed this month: it hurts only if it was late.
        completed = dossier.completed_at
        if completed is not None and timezone.localtime(completed).date() <= dossier.due_date:
            continue
        result.append(dossier)
    return result[:limit]


def agency_scorecard(*, agency: Agency, today: dt.date | None = None) -> Scorecard:
    today = today or timezone.localdate()
    inputs = month_inputs(agency=agency, today=today)
    return Scorecard(
        today=today,
        inputs=inputs,
        now=score_from(inputs),
        projected=score_from(projected_inputs(inputs, today=today)),
        hurting=hurting_dossiers(today=today),
    )
