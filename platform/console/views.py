"""Views of the public site: landing page, the provider console's sign-in, overview and
agency list."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from allauth.account.views import LoginView
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils import timezone

from accounts.provider_staff import provider_staff_required
from billing.selectors import unpaid_invoices
from nationalsync.models import OutboxStatus, PortalOutbox
from onboarding.models import Application, ApplicationState, ExitPackRun
from tenants import selectors
from tenants.models import AgencyKind, AgencyStatus
from tenants.units import provinces


def landing(request: HttpRequest) -> HttpResponse:
    agencies = selectors.agency_list(status=AgencyStatus.ACTIVE).prefetch_related("domains")
    names = provinces()
    by_province = [
        (names.get(code, code), list(items))
        for code, items in groupby(agencies, key=lambda a: a.province_code)
    ]
    return render(request, "console/landing.html", {"by_province": by_province})


class StaffLoginView(LoginView):  # type: ignore[misc]  # allauth is untyped
    """The provider staff's own sign-in page: allauth's sign-in (its rate limits, its second
    factor), in the console's clothes."""

    template_name = "console/login.html"
    success_url = reverse_lazy("console-home")  # unless the sign-in was asked with ?next=


staff_login = StaffLoginView.as_view()


@provider_staff_required
def home(request: HttpRequest) -> HttpResponse:
    """What needs the provider's attention, and the way to every console page."""
    today = timezone.localdate()
    unpaid = unpaid_invoices(today=today)
    context: dict[str, Any] = {
        "counts": selectors.agency_counts_by_status(),
        "statuses": AgencyStatus.choices,
        "waiting": Application.objects.filter(state=ApplicationState.SUBMITTED).count(),
        "failed": Application.objects.filter(state=ApplicationState.FAILED).count(),
        "unpaid": unpaid.count(),
        "unpaid_total": unpaid.aggregate(total=Sum("total"))["total"] or 0,
        "overdue": unpaid.filter(due_on__lt=today).count(),
        "exports": ExitPackRun.objects.filter(status__in=["queued", "running"]).count(),
        "sync_failed": PortalOutbox.objects.filter(status=OutboxStatus.FAILED).count(),
        "sync_pending": PortalOutbox.objects.filter(status=OutboxStatus.PENDING).count(),
    }
    return render(request, "console/home.html", context)


@provider_staff_required
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
