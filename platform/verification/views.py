"""The public verification page of every agency's portal (``/xac-thuc/``): anyone uploads a
PDF, or follows the QR/link printed on a document, and learns whether it is unchanged, who
signed it, when, and whether the certificate was valid then.

Uploads are limited per client (platform-wide, like tracking guesses): verifying is costly
and the page is open to everyone.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.ratelimit import client_bucket, rate_hit
from documents import references
from tenants.http import AgencyRequest
from verification import services

WINDOW = 600


def _limit() -> int:
    return int(getattr(settings, "VERIFICATION_UPLOADS_PER_WINDOW", 30))


def _refused(request: AgencyRequest) -> str:
    """A message when the client is past its uploads for the window, else ""."""
    decision = rate_hit(
        scope="verify-upload", key=client_bucket(request), limit=_limit(), window=WINDOW
    )
    if decision.allowed:
        return ""
    return _(
        "Too many files verified from your connection. Please try again in %(minutes)d minutes."
    ) % {"minutes": max(1, decision.retry_after // 60)}


def _page(request: AgencyRequest, context: dict[str, object], status: int = 200) -> HttpResponse:
    response = render(request, "verification/verify.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def verify(request: AgencyRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, {})
    refusal = _refused(request)
    if refusal:
        return _page(request, {"refusal": refusal}, status=429)
    result, _digest = services.upload_verify(request.FILES.get("file"))
    return _page(request, {"result": result}, status=200 if result.ok else 400)


@require_http_methods(["GET", "POST"])
def verify_reference(request: AgencyRequest, reference: str) -> HttpResponse:
    """The page a document's QR code opens: what the agency holds under the reference, the
    check of its own copy, and (POST) whether an uploaded copy is that very document."""
    held = references.held_document(reference)
    if held is None:
        return _page(
            request,
            {"unknown_reference": True},
            status=404,
        )
    context: dict[str, object] = {"held": held}
    if request.method == "POST":
        refusal = _refused(request)
        if refusal:
            context["refusal"] = refusal
            return _page(request, context, status=429)
        result, digest = services.upload_verify(request.FILES.get("file"))
        context["result"] = result
        context["uploaded"] = True
        context["same"] = bool(digest) and digest == held.sha256
        return _page(request, context, status=200 if result.ok else 400)

    def read() -> bytes:
        with held.open() as fh:
            return bytes(fh.read())

    try:
        check = services.document_check(sha256=held.sha256, read=read)
    except OSError:
        check = None
    context["held_check"] = check
    return _page(request, context)
