"""The agency's trail, under /quan-tri/nhat-ky/ on the agency's host: for its admins only."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from accounts.models import Role
from accounts.permissions import agency_role_required
from tenants.context import agency_context
from tenants.http import AgencyRequest
from trails import pages, selectors

admin_required = agency_role_required(Role.ADMIN)


@admin_required
@require_GET
def trail(request: AgencyRequest) -> HttpResponse:
    if request.agency is None:  # pragma: no cover - the tenant URLconf serves agencies only
        raise Http404
    form = pages.agency_trail_form(request)
    return pages.trail_page(
        request,
        template=pages.AGENCY_TEMPLATE,
        form=form,
        trail=selectors.agency_trail(form.to_filter()),
        export_url="audit-agency-export",
        extra={"section": "audit"},
    )


@admin_required
@require_GET
def trail_export(request: AgencyRequest) -> HttpResponse:
    agency = request.agency
    if agency is None:  # pragma: no cover
        raise Http404
    form = pages.agency_trail_form(request)
    response = pages.trail_export(
        request,
        form,
        selectors.agency_trail(form.to_filter()),
        agency.slug,
        lambda: agency_context(agency),
    )
    if response is None:
        return pages.trail_page(
            request,
            template=pages.AGENCY_TEMPLATE,
            form=form,
            trail=None,
            export_url="audit-agency-export",
            extra={"section": "audit"},
        )
    return response
