"""The scorecard page (``/quan-tri/thong-ke/diem/``, admin/leader/viewer). Thin."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reports.scorecard import agency_scorecard
from reports.views import _agency, dashboard_roles
from tenants.http import AgencyRequest


@dashboard_roles
@require_GET
def agency_scorecard_page(request: AgencyRequest) -> HttpResponse:
    card = agency_scorecard(agency=_agency(request))
    groups = list(zip(card.now.groups, card.projected.groups, strict=True))
    context = {"card": card, "groups": groups, "section": "stats"}
    return render(request, "reports/scorecard.html", context)
