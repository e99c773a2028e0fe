"""The transfer panel on the desk's dossier page: the transfers of this dossier, and the
form to send it when it stands at a transfer step with the officer looking at it."""

from __future__ import annotations

from typing import Any

from django import template

from dossiers import engine
from dossiers.models import Dossier, DossierProcess, DossierStatus
from exchange import selectors

register = template.Library()


@register.inclusion_tag("exchange/panel.html", takes_context=True)
def transfer_panel(context: Any, dossier: Dossier, process: DossierProcess) -> dict[str, Any]:
    request = context["request"]
    agency = request.agency
    can_send = False
    position = process.step_position
    if (
        position is not None
        and dossier.status == DossierStatus.IN_PROCESSING
        and process.assignee_id == request.user.pk
    ):
        can_send = engine.step_at(engine.steps_of(dossier), position).transfer
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "dossier": dossier,
        "process": process,
        "exchanges": selectors.exchanges_of_dossier(agency=agency, dossier=dossier),
        "can_send": can_send,
        "receivers": selectors.exchange_receivers(sender=agency, dossier=dossier)
        if can_send
        else [],
        "documents": dossier.documents.all() if can_send else [],
    }
