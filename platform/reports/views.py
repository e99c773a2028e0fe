"""Statistics pages. Thin: check who may see, validate the period, call the selectors, render.

Agency host: the dashboard and export (``/quan-tri/thong-ke/``, admin/leader/viewer) and the
public transparency page (``/minh-bach/``). Public host: the provider's and provinces'
dashboards (``/console/thong-ke/``, staff) and each province's transparency page
(``/minh-bach/<province code>/``).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from typing import Any, cast

from django.core.cache import cache
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import Role
from accounts.permissions import agency_role_required
from accounts.provider_staff import provider_staff_required
from reports import selectors
from reports.forms import period_from
from reports.selectors import Figures
from tenants.http import AgencyRequest
from tenants.models import Agency, AgencyStatus
from tenants.units import provinces

dashboard_roles = agency_role_required(Role.ADMIN, Role.LEADER, Role.VIEWER)
LEAGUE_LIMIT = 500
TRANSPARENCY_SECONDS = 60


def _agency(request: AgencyRequest) -> Agency:
    if request.agency is None:  # pragma: no cover - the tenant URLconf serves agencies only
        raise Http404
    return request.agency


def _chart(scope: Q, start: dt.date, end: dt.date) -> list[tuple[str, int]]:
    """Dossiers received per day, or per month over periods longer than two months."""
    if (end - start).days > 62:
        by_month = selectors.received_by_month(scope=scope, start=start, end=end)
        points, month = [], start.replace(day=1)
        while month <= end:
            points.append((f"{month:%m/%Y}", by_month.get(month, 0)))
            month = selectors.next_month(month)
        return points
    received = scope & Q(metric__in=selectors.CHANNEL_METRICS)
    by_day = selectors.figures_by(scope=received, start=start, end=end, key="day")
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return [(f"{d:%d/%m}", by_day[d].received if d in by_day else 0) for d in days]


def _province_chart(by_province: dict[Any, Figures]) -> list[tuple[str, int]]:
    """Dossiers received per province (the provider's view: a daily chart over thousands of
    agencies would read every daily row)."""
    names = provinces()
    return [(names.get(code, code), f.received) for code, f in sorted(by_province.items())]


def _breakdowns(
    scope: Q, start: dt.date, end: dt.date, *, league: bool = False, by_province: bool = False
) -> dict[str, Any]:
    """The figures, per procedure and sector (and per agency for a league table), and the
    chart: one grouped scan of the rollups plus the chart's."""
    keys = ["procedure_code", "sector"]
    keys += ["agency_id"] if league else []
    keys += ["province_code"] if by_province else []
    data = selectors.breakdown(scope=scope, start=start, end=end, keys=keys)
    context: dict[str, Any] = {
        "figures": data.overall,
        "by_procedure": _ranked(data.by["procedure_code"]),
        "by_sector": _ranked(data.by["sector"]),
        "chart": (
            _province_chart(data.by["province_code"]) if by_province else _chart(scope, start, end)
        ),
    }
    if league:
        context["league"], context["league_size"] = _league(data.by["agency_id"])
    return context


def _ranked(by: dict[Any, Figures]) -> list[tuple[Any, Figures]]:
    return sorted(by.items(), key=lambda kv: (-kv[1].received, kv[0]))


def _league(by_agency: dict[int, Figures]) -> tuple[list[tuple[Agency, Figures]], int]:
    """Agencies ranked by on-time rate, then by dossiers resolved (the best first)."""
    ranked = sorted(
        by_agency.items(),
        key=lambda kv: (-(kv[1].on_time_rate or -1), -kv[1].resolved, kv[0]),
    )[:LEAGUE_LIMIT]
    agencies = Agency.objects.only("pk", "slug", "name", "province_code").in_bulk(
        [pk for pk, _f in ranked]
    )
    return [(agencies[pk], f) for pk, f in ranked if pk in agencies], len(by_agency)


# -- Agency host -------------------------------------------------------------------------


@dashboard_roles
@require_GET
def agency_dashboard(request: AgencyRequest) -> HttpResponse:
    agency = _agency(request)
    form, period = period_from(request.GET)
    context: dict[str, Any] = {"form": form, "section": "stats", "open": selectors.open_dossiers()}
    if period is not None:
        start, end = period
        scope = Q(agency_id=agency.pk)
        context.update(start=start, end=end, **_breakdowns(scope, start, end))
    return render(request, "reports/agency_dashboard.html", context, status=200)


class _Echo:
    """A file-like object csv.writer writes one line to, handing it straight back."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterator[tuple[Any, ...]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so spreadsheet programs read UTF-8
    yield writer.writerow(
        [_("Day"), _("Agency"), _("Procedure code"), _("Sector"), _("Metric"), _("Count"),
         _("Total (days or score)")]
    )  # fmt: skip
    for day, slug, code, sector, metric, n, total in rows:
        yield writer.writerow([day.isoformat(), slug, code, sector, metric, n, total])


def _export(scope: Q, start: dt.date, end: dt.date, name: str) -> StreamingHttpResponse:
    rows = selectors.export_rows(scope=scope, start=start, end=end)
    response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="thong-ke-{name}-{start}-{end}.csv"'
    return response


@dashboard_roles
@require_GET
def agency_export(request: AgencyRequest) -> HttpResponse:
    agency = _agency(request)
    form, period = period_from(request.GET)
    if period is None:
        return render(
            request, "reports/agency_dashboard.html", {"form": form, "section": "stats"}, status=400
        )
    # Typed as HttpResponse for the role decorator; a streaming response serves the same.
    return cast(HttpResponse, _export(Q(agency_id=agency.pk), *period, agency.slug))


def _transparency_figures(key: str, scope: Q) -> dict[str, Any]:
    """This month's and this year's figures, cached briefly (the cache key function adds
    the agency's schema on agency hosts)."""
    cached = cache.get(key)
    if cached is None:
        today = timezone.localdate()
        cached = {
            "month": selectors.figures(
                scope=scope, start=today.replace(day=1), end=today
            ).as_dict(),
            "year": selectors.figures(
                scope=scope, start=today.replace(month=1, day=1), end=today
            ).as_dict(),
        }
        cache.set(key, cached, TRANSPARENCY_SECONDS)
    return {
        "periods": [
            (_("This month"), Figures.from_dict(cached["month"])),
            (_("This year"), Figures.from_dict(cached["year"])),
        ]
    }


@require_GET
def agency_transparency(request: AgencyRequest) -> HttpResponse:
    agency = _agency(request)
    context = _transparency_figures(
        f"reports:transparency:agency:{agency.pk}", Q(agency_id=agency.pk)
    )
    return render(request, "reports/transparency.html", {**context, "title": agency.name})


# -- Public host -------------------------------------------------------------------------


def _province_name(code: str) -> str:
    name = provinces().get(code)
    if name is None:
        raise Http404(_("There is no province with this code."))
    return name


@require_GET
def province_transparency(request: HttpRequest, code: str) -> HttpResponse:
    name = _province_name(code)
    context = _transparency_figures(f"reports:transparency:province:{code}", Q(province_code=code))
    return render(request, "reports/transparency.html", {**context, "title": name})


def _console(
    request: HttpRequest,
    scope: Q,
    extra: dict[str, Any],
    *,
    league: bool = True,
    by_province: bool = False,
) -> HttpResponse:
    form, period = period_from(request.GET)
    context: dict[str, Any] = {"form": form, **extra}
    status = 200
    if period is None:
        status = 400
    else:
        start, end = period
        context.update(
            start=start,
            end=end,
            **_breakdowns(scope, start, end, league=league, by_province=by_province),
        )
    return render(request, "reports/console_dashboard.html", context, status=status)


@provider_staff_required
@require_GET
def console_dashboard(request: HttpRequest) -> HttpResponse:
    names = provinces()
    codes = Agency.objects.filter(status=AgencyStatus.ACTIVE).values_list(
        "province_code", flat=True
    )
    present = sorted({c for c in codes if c in names})
    extra = {"heading": _("All agencies"), "provinces": [(c, names[c]) for c in present]}
    return _console(request, Q(), extra, by_province=True)


@provider_staff_required
@require_GET
def console_province(request: HttpRequest, code: str) -> HttpResponse:
    name = _province_name(code)
    return _console(request, Q(province_code=code), {"heading": name, "province_code": code})


@provider_staff_required
@require_GET
def console_agency(request: HttpRequest, slug: str) -> HttpResponse:
    agency = get_object_or_404(Agency, slug=slug)
    return _console(
        request,
        Q(agency_id=agency.pk),
        {"heading": agency.name, "target": agency, "province_code": agency.province_code},
        league=False,
    )
