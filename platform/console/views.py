"""Views of the public site: landing page and the provider console."""

from __future__ import annotations

from itertools import groupby

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from onboarding.units import provinces
from tenants import selectors
from tenants.models import AgencyKind, AgencyStatus


def landing(request: HttpRequest) -> HttpResponse:
    agencies = selectors.agency_list(status=AgencyStatus.ACTIVE).prefetch_related("domains")
    names = provinces()
    by_province = [
        (names.get(code, code), list(items))
        for code, items in groupby(agencies, key=lambda a: a.province_code)
    ]
    return render(request, "console/landing.html", {"by_province": by_province})


@staff_member_required
def agency_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    kind = request.GET.get("kind") or None
    search = request.GET.get("q", "").strip()
    agencies = selectors.agency_list(status=status, kind=kind, search=search).prefetch_related(
        "domains"
    )[:500]
    return render(
        request,
        "console/agency_list.html",
        {
            "agencies": agencies,
            "counts": selectors.agency_counts_by_status(),
            "statuses": AgencyStatus.choices,
            "kinds": AgencyKind.choices,
            "filters": {"status": status or "", "kind": kind or "", "q": search},
        },
    )
