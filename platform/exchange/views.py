"""The transfer pages under /mot-cua/lien-thong/: the inbox (sent to us, sent by us), one
transfer with its documents and trail, and the actions. Thin: each action parses the
form and calls one service, which checks the state and the actor's role again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import agency_role_required, agency_roles, signed_in
from dossiers import selectors as dossier_selectors
from exchange import selectors, services
from exchange.models import Direction, Exchange, ExchangeState
from tenants.http import AgencyRequest
from tenants.models import Agency

STAFF = (Role.ADMIN, Role.RECEPTIONIST, Role.OFFICER, Role.LEADER, Role.VIEWER)


def _agency(request: AgencyRequest) -> Agency:
    assert request.agency is not None
    return request.agency


def _exchange(request: AgencyRequest, pk: int) -> Exchange:
    exchange = selectors.exchange_for_agency(agency=_agency(request), pk=pk)
    if exchange is None:
        raise Http404
    return exchange


@agency_role_required(*STAFF)
def inbox(request: AgencyRequest) -> HttpResponse:
    agency = _agency(request)
    return render(
        request,
        "exchange/inbox.html",
        {
            "inbox": selectors.exchange_inbox(agency=agency)[:200],
            "outbox": selectors.exchange_outbox(agency=agency)[:200],
        },
    )


@agency_role_required(*STAFF)
def detail(request: AgencyRequest, pk: int) -> HttpResponse:
    agency = _agency(request)
    exchange = _exchange(request, pk)
    received = exchange.receiver_id == agency.pk
    roles = agency_roles(request)
    return render(
        request,
        "exchange/detail.html",
        {
            "exchange": exchange,
            "received": received,
            "documents": exchange.documents.all(),
            "events": exchange.events.select_related("agency", "actor"),
            "may_accept": received
            and exchange.state == ExchangeState.SENT
            and bool(roles & services.RECEIVING_ROLES),
            "may_return": received
            and exchange.state == ExchangeState.ACCEPTED
            and bool(roles & services.ANSWERING_ROLES),
        },
    )


@agency_role_required(*STAFF)
def document(request: AgencyRequest, pk: int, doc: int) -> HttpResponse:
    """A document's copy held by this agency: what was sent to it (once accepted), or what
    it returned."""
    agency = _agency(request)
    exchange = _exchange(request, pk)
    row = exchange.documents.filter(pk=doc).first()
    if row is None:
        raise Http404
    if exchange.receiver_id == agency.pk:
        path = row.copy_path if row.direction == Direction.SENT else row.source_path
    else:
        path = row.source_path if row.direction == Direction.SENT else row.copy_path
    if not path:
        raise Http404
    response: HttpResponse = FileResponse(  # type: ignore[assignment]
        default_storage.open(path, "rb"),
        as_attachment=True,
        filename=row.original_name,
        content_type=row.content_type,
    )
    return response


ACTIONS: dict[str, Callable[[AgencyRequest, Agency, int], Any]] = {
    "accept": lambda r, a, pk: services.exchange_accept(agency=a, exchange=pk, actor=signed_in(r)),
    "refuse": lambda r, a, pk: services.exchange_refuse(
        agency=a, exchange=pk, actor=signed_in(r), reason=r.POST.get("note", "")
    ),
    "return": lambda r, a, pk: services.exchange_return(
        agency=a,
        exchange=pk,
        actor=signed_in(r),
        note=r.POST.get("note", ""),
        files=r.FILES.getlist("files"),
    ),
}


@require_POST
@agency_role_required(*STAFF)
def action(request: AgencyRequest, pk: int, name: str) -> HttpResponse:
    handler = ACTIONS.get(name)
    if handler is None:
        raise Http404
    _exchange(request, pk)
    try:
        handler(request, _agency(request), pk)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Done."))
    return redirect("exchange-detail", pk=pk)


@require_POST
@agency_role_required(*STAFF)
def send(request: AgencyRequest, code: str) -> HttpResponse:
    """Send a dossier from the desk's dossier page (its transfer step)."""
    agency = _agency(request)
    dossier = dossier_selectors.dossier_for_desk(code)
    if dossier is None:
        raise Http404
    receiver_id = request.POST.get("receiver", "")
    receiver = (
        selectors.exchange_receivers(sender=agency, dossier=dossier)
        .filter(pk=int(receiver_id))
        .first()
        if receiver_id.isdigit()
        else None
    )
    step = request.POST.get("step", "")
    try:
        if receiver is None:
            raise ValidationError(_("Choose the agency to transfer the dossier to."))
        ids = [int(v) for v in request.POST.getlist("documents") if v.isdigit()]
        services.exchange_send(
            agency=agency,
            dossier=dossier,
            actor=signed_in(request),
            receiver=receiver,
            document_ids=ids or None,
            note=request.POST.get("note", ""),
            expected_step=int(step) if step.isdigit() else None,
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, _("The dossier was transferred to %(agency)s.") % {"agency": receiver.name}
        )
    return redirect("desk-dossier", code=dossier.code)
