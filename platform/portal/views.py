"""Pages of an agency's citizen portal. Thin: parse input, call a service, render."""

from __future__ import annotations

import io
import uuid
from typing import TYPE_CHECKING, Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.http.request import split_domain_port
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import agency_roles, signed_in
from accounts.services import profile_update
from desk.services import supplement_receive
from docstore.services import documents_matching
from documents.services import issued_open, receipt_issue
from dossiers import selectors as dossier_selectors
from dossiers.forms import DossierForm
from dossiers.models import Dossier, DossierDraft, DossierStatus
from lifecycle.submit import (
    Applicant,
    dossier_check,
    dossier_lookup,
    dossier_submit,
    draft_delete,
    draft_for_user,
    draft_save,
)
from portal import tracking_cache
from portal.branding import (
    branding_stylesheet,
    branding_stylesheet_version,
    current_branding,
)
from portal.fee_views import fee_page_context
from portal.forms import ProfileForm, TrackingForm
from portal.lookup_limits import LookupCounters
from procedures.models import AgencyProcedure
from procedures.selectors import published_procedures, published_sectors
from tenants import pagecache
from tenants.http import AgencyRequest
from tenants.models import Agency
from tenants.pagecache import cache_public_page
from tenants.selectors import agency_primary_hostname
from vneid.services import identity_applicant_values, identity_of

if TYPE_CHECKING:
    from accounts.models import User


def _agency(request: HttpRequest) -> Any:
    agency = getattr(request, "agency", None)
    if agency is None:  # pragma: no cover - the tenant URLconf is only routed for agencies
        raise Http404
    return agency


@cache_public_page
def home(request: AgencyRequest) -> HttpResponse:
    return render(
        request,
        "portal/home.html",
        {
            "sectors": published_sectors(),
            "featured": published_procedures()[:6],
        },
    )


@cache_public_page
def procedure_list(request: AgencyRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    sector = request.GET.get("linh-vuc", "").strip()[:150]
    page = Paginator(published_procedures(search=search, sector=sector), 20).get_page(
        request.GET.get("trang")
    )
    return render(
        request,
        "portal/procedure_list.html",
        {"page": page, "search": search, "sector": sector, "sectors": published_sectors()},
    )


def _published(code: str) -> AgencyProcedure:
    procedure = (
        AgencyProcedure.objects.select_related("published_version")
        .filter(code=code, is_published=True)
        .first()
    )
    if procedure is None or procedure.published_version is None:
        raise Http404
    return procedure


@cache_public_page
def procedure_detail(request: AgencyRequest, code: str) -> HttpResponse:
    procedure = _published(code)
    version = procedure.published_version
    assert version is not None
    return render(
        request,
        "portal/procedure_detail.html",
        {"procedure": procedure, "version": version, "spec": version.spec},
    )


def _flash_errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _locked(user: User) -> dict[str, str]:
    """The applicant details the person's VNeID identity fixes (none without one)."""
    identity = identity_of(user)
    return identity_applicant_values(identity) if identity is not None else {}


def _applicant_initial(user: User) -> dict[str, str]:
    return {
        "applicant_name": user.full_name,
        "applicant_id_number": user.personal_id_number,
        "applicant_phone": user.phone,
        "applicant_address": user.address,
        **_locked(user),
    }


def _applicant(user: User, data: dict[str, str]) -> Applicant:
    data = {**data, **_locked(user)}  # what VNeID verified, whatever was posted
    return Applicant(
        name=data.get("applicant_name", "").strip(),
        id_number=data.get("applicant_id_number", "").strip(),
        phone=data.get("applicant_phone", "").strip(),
        email=user.email,
        address=data.get("applicant_address", "").strip(),
        user=user,
    )


@login_required
@require_http_methods(["GET", "POST"])
def submission_start(request: AgencyRequest, code: str) -> HttpResponse:
    procedure = _published(code)
    version = procedure.published_version
    assert version is not None
    if not (version.online_submission and version.spec.online_mode != "none"):
        messages.error(request, _("This procedure cannot be submitted online."))
        return redirect("portal-procedure", code=code)
    posted = request.method == "POST"  # bound even when empty: problems shown, no crash
    user = signed_in(request)
    form = DossierForm(
        version.spec,
        request.POST if posted else None,
        request.FILES if posted else None,
        # A new form names the draft it will fill, so saving it twice makes one draft.
        initial={**_applicant_initial(user), "draft_id": uuid.uuid4()},
        locked=_locked(user),
    )
    if request.method == "POST":
        return _save_and_continue(request, form, procedure, draft=None)
    return render(
        request,
        "portal/submission_form.html",
        {
            "form": form,
            "procedure": procedure,
            "store_matches": _store_matches(user, version.spec, None),
        },
    )


def _store_matches(user: User, spec: Any, draft: DossierDraft | None) -> dict[int, list[Any]]:
    """Per component, the applicant's stored documents that fit it (results of earlier
    dossiers, certified copies), less those already attached to the draft there."""
    attached = {
        (d.component_position, d.from_store_document)
        for d in (draft.documents.all() if draft is not None else [])
        if d.from_store_document is not None
    }
    out: dict[int, list[Any]] = {}
    for position, component in enumerate(spec.components):
        found = [
            doc
            for doc in documents_matching(user, component.name)
            if (position, doc.pk) not in attached
        ]
        if found:
            out[position] = found
    return out


def _store_choices(request: AgencyRequest, spec: Any) -> dict[int, list[str]]:
    chosen: dict[int, list[str]] = {}
    for position in range(len(spec.components)):
        values = [v for v in request.POST.getlist(f"store_{position}") if v.strip()]
        if values:
            chosen[position] = values
    return chosen


@login_required
@require_http_methods(["GET", "POST"])
def submission_edit(request: AgencyRequest, draft_id: str) -> HttpResponse:
    user = signed_in(request)
    try:
        draft = draft_for_user(draft_id=draft_id, user=user)
    except ValidationError as exc:
        _flash_errors(request, exc)
        return redirect("portal-my-dossiers")
    procedure = draft.procedure
    if not procedure.is_published or procedure.published_version is None:
        messages.error(
            request,
            _("The procedure “%(name)s” is no longer offered by this agency.")
            % {"name": procedure.name},
        )
        return redirect("portal-my-dossiers")
    initial = {**_applicant_initial(user), **draft.applicant_data, "draft_id": draft.pk}
    initial.update({f"f_{k}": v for k, v in draft.form_data.items()})
    locked = _locked(user)
    initial.update(locked)
    posted = request.method == "POST"
    form = DossierForm(
        procedure.published_version.spec,
        request.POST if posted else None,
        request.FILES if posted else None,
        initial=initial,
        locked=locked,
    )
    if request.method == "POST":
        return _save_and_continue(request, form, procedure, draft=draft)
    return render(
        request,
        "portal/submission_form.html",
        {
            "form": form,
            "procedure": procedure,
            "draft": draft,
            "documents": dossier_selectors.draft_documents_by_component(draft),
            "store_matches": _store_matches(user, procedure.published_version.spec, draft),
        },
    )


def _error_dict(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _save_and_continue(
    request: AgencyRequest,
    form: DossierForm,
    procedure: AgencyProcedure,
    *,
    draft: DossierDraft | None,
) -> HttpResponse:
    """Keep what was entered as a draft; to go on to the review, it must also be complete.

    Problems are shown next to the fields they concern, and what was acceptable is kept.
    """
    form.is_valid()  # shapes the data; the services decide what is acceptable
    remove = [int(v) for v in request.POST.getlist("remove_document") if v.isdigit()]
    errors: dict[str, list[str]] = {}
    saved = False
    try:
        draft = draft_save(
            user=signed_in(request),
            procedure=procedure,
            form_data=form.form_data(),
            applicant_data=form.applicant_data(),
            files=form.uploads(),
            remove_documents=remove,
            draft=draft,
            draft_id=form.form_draft_id(),
            store_documents=_store_choices(request, form.spec),
        )
        saved = True
    except ValidationError as exc:
        errors = _error_dict(exc)
    if not errors and draft is not None and request.POST.get("action") == "review":
        try:
            dossier_check(
                agency=_agency(request),
                procedure=procedure,
                applicant=_applicant(signed_in(request), draft.applicant_data),
                form_data=draft.form_data,
                draft=draft,
            )
        except ValidationError as exc:
            errors = _error_dict(exc)
        else:
            return redirect("portal-submission-review", draft_id=draft.pk)
    if errors or draft is None:
        form.add_service_errors(errors)
        return render(
            request,
            "portal/submission_form.html",
            {
                "form": form,
                "procedure": procedure,
                "draft": draft,
                # Said in so many words: what was entered is in the draft (or nothing is).
                "kept_in_draft": saved,
                "documents": dossier_selectors.draft_documents_by_component(draft),
                "store_matches": _store_matches(signed_in(request), form.spec, draft),
            },
            status=400,
        )
    messages.success(
        request,
        _("Your draft is saved. You can continue it later, from any device, under “My dossiers”."),
    )
    return redirect("portal-submission-edit", draft_id=draft.pk)


@login_required
@require_http_methods(["GET", "POST"])
def submission_review(request: AgencyRequest, draft_id: str) -> HttpResponse:
    """GET: the draft checked as a whole and summarised; POST: submit it."""
    try:
        draft = draft_for_user(draft_id=draft_id, user=signed_in(request))
    except ValidationError as exc:
        _flash_errors(request, exc)
        return redirect("portal-my-dossiers")
    submission = {
        "agency": _agency(request),
        "procedure": draft.procedure,
        "applicant": _applicant(signed_in(request), draft.applicant_data),
        "form_data": draft.form_data,
        "draft": draft,
    }
    try:
        if request.method == "POST":
            result = dossier_submit(**submission)
            messages.success(request, _("Your dossier has been received."))
            return redirect("portal-receipt", code=result.dossier.code)
        checked = dossier_check(**submission)
    except ValidationError as exc:
        _flash_errors(request, exc)
        return redirect("portal-submission-edit", draft_id=draft.pk)
    spec = checked.version.spec
    return render(
        request,
        "portal/submission_review.html",
        {
            "draft": draft,
            "procedure": draft.procedure,
            "spec": spec,
            "answers": [(f, checked.cleaned.get(f.key)) for f in spec.fields],
            "applicant": submission["applicant"],
            "documents": dossier_selectors.draft_documents_by_component(draft),
        },
    )


@login_required
@require_POST
def submission_discard(request: AgencyRequest, draft_id: str) -> HttpResponse:
    try:
        draft = draft_for_user(draft_id=draft_id, user=signed_in(request))
    except ValidationError:
        raise Http404 from None
    draft_delete(draft=draft)
    messages.success(request, _("The draft was deleted."))
    return redirect("portal-my-dossiers")


def _own_dossier(request: AgencyRequest, code: str) -> Dossier:
    """The signed-in applicant's dossier, or any dossier for the agency's staff."""
    dossier = get_object_or_404(
        Dossier.objects.select_related("procedure", "procedure_version"), code=code
    )
    if dossier.applicant_id != request.user.pk and not agency_roles(request):
        raise Http404
    return dossier


def _qr_svg(url: str) -> str:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=1, xmldecl=False, svgns=True)
    return out.getvalue().decode()


@login_required
def receipt(request: AgencyRequest, code: str) -> HttpResponse:
    """Form 01: receipt and appointment slip, printable, with a QR code to track it."""
    dossier = _own_dossier(request, code)
    tracking_url = request.build_absolute_uri(
        reverse("portal-tracking") + f"?ma={dossier.code}&bi-mat={dossier.lookup_secret}"
    )
    return render(
        request,
        "portal/receipt.html",
        {
            "dossier": dossier,
            "spec": dossier.procedure_version.spec,
            "qr_svg": _qr_svg(tracking_url),
            "tracking_url": tracking_url,
            "documents": dossier.documents.all(),
        },
    )


@login_required
def receipt_pdf(request: AgencyRequest, code: str) -> FileResponse:
    """Form 01 as an A4 PDF, sealed by the agency, to the same people as the HTML receipt: the
    one issued the first time it was asked for, the same bytes every time after."""
    dossier = _own_dossier(request, code)
    tracking_url = request.build_absolute_uri(
        reverse("portal-tracking") + f"?ma={dossier.code}&bi-mat={dossier.lookup_secret}"
    )
    issued = receipt_issue(agency=request.tenant, dossier=dossier, tracking_url=tracking_url)
    response = FileResponse(
        issued_open(issued),
        content_type="application/pdf",
        filename=f"bien-nhan-{dossier.code}.pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def tracking(request: AgencyRequest) -> HttpResponse:
    """Public lookup by code + secret (no login).

    Wrong secrets are guesses: counted against the client that gave them, which past a
    limit is refused for a while (portal.lookup_limits). Nothing anyone else does can
    refuse the holder of the right secret.
    """
    cached = _tracking_from_cache(request)
    if cached is not None:
        return cached
    source = request.POST if request.method == "POST" else None
    if source is None and request.GET.get("ma"):
        source = {"code": request.GET.get("ma", ""), "secret": request.GET.get("bi-mat", "")}  # type: ignore[assignment]
    form = TrackingForm(source)
    dossier = None
    status = 200
    if source is not None and form.is_valid():
        code = form.cleaned_data["code"].strip().upper()
        counters = LookupCounters.of(request, code)
        refusal = counters.refusal(pagecache.cached_many(counters.counter_keys()))
        if refusal is not None:
            form.add_error(
                None,
                _("Too many failed lookups. Please try again in %(minutes)d minutes.")
                % {"minutes": max(1, refusal.retry_after // 60)},
            )
            status = 429
        else:
            dossier = dossier_lookup(code=code, secret=form.cleaned_data["secret"])
            if dossier is not None and dossier.status == DossierStatus.MOVED:
                moved = _tracking_elsewhere(request, dossier, form.cleaned_data["secret"])
                if moved is not None:
                    return moved
            if dossier is None:
                counters.count_wrong_answer()
                form.add_error(
                    None,
                    _("No dossier matches this code and lookup code. Check both on your receipt."),
                )
                status = 404
    events = dossier.events.all() if dossier else []
    response = render(
        request,
        "portal/tracking.html",
        {"form": form, "dossier": dossier, "events": events},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    if (
        dossier is not None
        and request.method == "GET"
        and pagecache.cacheable_request(request)
        and not response.cookies
    ):
        tracking_cache.tracking_page_keep(
            tracking_cache.tracking_page_key(
                code=dossier.code, secret=form.cleaned_data["secret"], language=get_language()
            ),
            response,
        )
    return response


def _tracking_elsewhere(
    request: AgencyRequest, dossier: Dossier, secret: str
) -> HttpResponse | None:
    """A dossier that moved to another agency (a split): the same lookup there, for whoever
    gave its code and secret (301; 303 after the form was posted)."""
    slug = dossier_selectors.dossier_moved_to(dossier.code)
    agency = Agency.objects.filter(slug=slug).first() if slug else None
    host = agency_primary_hostname(agency) if agency is not None else None
    if not host:
        return None
    _host, port = split_domain_port(request.get_host())
    query = urlencode({"ma": dossier.code, "bi-mat": secret})
    location = f"{request.scheme}://{host}{':' + port if port else ''}"
    location += reverse("portal-tracking") + "?" + query
    if request.method == "POST":
        return HttpResponseRedirect(location, status=303)
    response = HttpResponsePermanentRedirect(location)
    response["Cache-Control"] = "no-store"
    return response


def _tracking_from_cache(request: HttpRequest) -> HttpResponse | None:
    """A repeated anonymous lookup (e.g. the receipt's QR code): one cache round trip reads
    the client's guess counters and the page; refused clients and misses take the full path."""
    code = request.GET.get("ma", "").strip().upper()
    if request.method != "GET" or not code or not pagecache.cacheable_request(request):
        return None
    counters = LookupCounters.of(request, code)
    page = tracking_cache.tracking_page_key(
        code=code, secret=request.GET.get("bi-mat", ""), language=get_language()
    )
    found = pagecache.cached_many([*counters.counter_keys(), page])
    if page not in found or counters.refusal(found) is not None:
        return None
    content_type, body = found[page]
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    response["X-Page-Cache"] = "hit"
    return response


@login_required
def my_dossiers(request: AgencyRequest) -> HttpResponse:
    user = signed_in(request)
    return render(
        request,
        "portal/my_dossiers.html",
        {
            "dossiers": dossier_selectors.dossiers_of_applicant(user),
            "drafts": dossier_selectors.drafts_of_applicant(user),
        },
    )


@login_required
def my_dossier_detail(request: AgencyRequest, code: str) -> HttpResponse:
    dossier = _own_dossier(request, code)
    return render(
        request,
        "portal/my_dossier_detail.html",
        {
            "dossier": dossier,
            "events": dossier.events.all(),
            "documents": dossier.documents.all(),
            "spec": dossier.procedure_version.spec,
            "supplement": dossier_selectors.supplement_of(dossier),
            **fee_page_context(dossier),
        },
    )


@login_required
@require_POST
def my_dossier_supplement(request: AgencyRequest, code: str) -> HttpResponse:
    """The applicant sends what the supplement request (Form 02) asked for."""
    dossier = _own_dossier(request, code)
    files = {
        int(key[2:]): request.FILES.getlist(key)
        for key in request.FILES
        if key.startswith("c_") and key[2:].isdigit()
    }
    try:
        supplement_receive(
            dossier=dossier,
            actor=signed_in(request),
            files=files,
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Your supplement was received; processing has resumed."))
    return redirect("portal-my-dossier", code=dossier.code)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AgencyRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        profile_update(user=form.instance, **form.cleaned_data)
        messages.success(request, _("Your details were saved."))
        return redirect("portal-profile")
    return render(request, "portal/profile.html", {"form": form})


def branding_css(request: AgencyRequest) -> HttpResponse:
    """The agency's colours (linked from every page of its host; see base.html)."""
    branding = current_branding()
    response = HttpResponse(branding_stylesheet(branding), content_type="text/css; charset=utf-8")
    if request.GET.get("v") == branding_stylesheet_version(branding):
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:  # an old page's link: the current colours, but not kept
        response["Cache-Control"] = "no-cache"
    return response


def logo(request: AgencyRequest) -> FileResponse:
    branding = current_branding()
    if not branding.logo or not default_storage.exists(branding.logo.name):
        raise Http404
    response = FileResponse(
        default_storage.open(branding.logo.name, "rb"), content_type="image/png"
    )
    response["Cache-Control"] = "public, max-age=300"
    return response
