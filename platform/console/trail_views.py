"""The provider's trail, under /console/nhat-ky/: for provider staff only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from accounts.provider_staff import provider_staff_required
from tenants.context import public_context
from trails import pages, selectors


@provider_staff_required
@require_GET
def trail(request: HttpRequest) -> HttpResponse:
    form = pages.provider_trail_form(request)
    return pages.trail_page(
        request,
        template=pages.PROVIDER_TEMPLATE,
        form=form,
        trail=selectors.provider_trail(form.to_filter()),
        export_url="audit-provider-export",
        extra={},
    )


@provider_staff_required
@require_GET
def trail_export(request: HttpRequest) -> HttpResponse:
    form = pages.provider_trail_form(request)
    response = pages.trail_export(
        request, form, selectors.provider_trail(form.to_filter()), "nha-cung-cap", public_context
    )
    if response is None:
        return pages.trail_page(
            request,
            template=pages.PROVIDER_TEMPLATE,
            form=form,
            trail=None,
            export_url="audit-provider-export",
            extra={},
        )
    return response
