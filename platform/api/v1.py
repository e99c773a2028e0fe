"""Version 1 of the agency REST API, mounted at ``/api/v1/`` on each agency's host.

Endpoints are thin: authenticate the key (scope, rate limit), parse the request,
call one service or selector, shape the answer. Refusals: see ``api.errors``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Form, NinjaAPI, Query, Status
from ninja.openapi.docs import Swagger
from ninja.security import HttpBearer
from pydantic import BaseModel

from api import errors
from api.errors import ApiError
from api.models import ApiKey, Scope
from api.schemas import (
    DossierOut,
    ErrorOut,
    InboundData,
    ProcedureDetailOut,
    ProcedureListOut,
    ReceiptOut,
    SubmitData,
)
from api.selectors import (
    dossier_by_code,
    procedure_by_code,
    procedure_out,
    procedure_ref_by_code,
)
from api.services import ApiKeyRefused, api_key_authenticate, dossier_receive_inbound
from core import inputs
from core.ratelimit import rate_hit
from dossiers.models import Channel, Dossier, DossierStatus
from lifecycle.submit import Applicant, SubmitResult, dossier_submit
from procedures.models import AgencyProcedure
from procedures.selectors import published_procedures
from tenants.db import connection
from tenants.models import Agency

RATE_WINDOW = 60
COMPONENT_PART_RE = re.compile(r"^component_(\d{1,3})$")
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


class KeyAuth(HttpBearer):
    """``Authorization: Bearer mc_…``: a key of the host's agency holding ``scope``."""

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        try:
            key = api_key_authenticate(raw=token)
        except ApiKeyRefused as exc:
            if exc.reason == "revoked":
                raise ApiError(401, "key_revoked", _("This API key has been revoked.")) from None
            raise ApiError(
                401, "key_invalid", _("This API key is not valid for this agency.")
            ) from None
        if self.scope not in key.scopes:
            raise ApiError(
                403,
                "scope_missing",
                _("This API key does not have the permission “%(scope)s”.") % {"scope": self.scope},
            )
        if key.rate_limit_per_minute:
            decision = rate_hit(
                scope=f"api:{connection.schema_name}",
                key=key.prefix,
                limit=key.rate_limit_per_minute,
                window=RATE_WINDOW,
            )
            if not decision.allowed:
                raise ApiError(
                    429,
                    "rate_limited",
                    _("Too many requests with this key. Try again in %(seconds)d seconds.")
                    % {"seconds": decision.retry_after},
                    headers={"Retry-After": str(decision.retry_after)},
                )
        return key


api = NinjaAPI(
    title="MotCua Cloud API",
    version="1",
    description=(
        "The REST API of one agency, served on the agency's own host. Every request "
        "carries an API key issued by the agency's administrator "
        "(`Authorization: Bearer mc_…`), with the permission the operation names. "
        'Errors share one shape: `{"error": {"code", "message", "fields"}}`; '
        "messages follow `Accept-Language` (vi, en)."
    ),
    urls_namespace="api-v1",
    docs=Swagger(),
    docs_url="/docs/",
    openapi_url="/openapi.json",
)
errors.install(api)

ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}


def _agency(request: HttpRequest) -> Agency:
    agency: Agency | None = getattr(request, "agency", None)
    if agency is None:  # pragma: no cover - only the agency URLconf mounts the API
        raise ApiError(404, "not_found", _("Not found."))
    return agency


def _multipart_body(description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["data"],
                        "properties": {
                            "data": {"type": "string", "description": description},
                            "component_0": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                                "description": _doc_components,
                            },
                        },
                        "additionalProperties": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
        }
    }


_doc_components = (
    "Files of dossier component 0; component_1, component_2, … likewise (see the "
    "procedure's components). PDF, JPEG, PNG, WEBP, TIFF, DOCX, XLSX or ODT, "
    "recognised by content."
)


def _parse(model: type[BaseModel], raw: str) -> Any:
    """The JSON ``data`` part, in NFC and free of NUL characters (``core.inputs``), as
    ``model``; pydantic's errors → 400 with data.<path> keys."""
    try:
        document = inputs.loads(raw, where="data")
    except ValueError:
        return model.model_validate_json(raw)  # not JSON: pydantic says so in its words
    return model.model_validate(document)


def _uploads(request: HttpRequest) -> dict[int, list[UploadedFile]]:
    found: dict[int, list[UploadedFile]] = {}
    unexpected: list[str] = []
    for name in request.FILES:
        match = COMPONENT_PART_RE.match(name)
        if match is None:
            unexpected.append(name)
            continue
        found[int(match.group(1))] = list(request.FILES.getlist(name))
    if unexpected:
        raise errors.invalid(
            {
                "documents": [
                    _("Unexpected file part “%(name)s”: send files as component_<n>.")
                    % {"name": name[:50]}
                    for name in unexpected
                ]
            }
        )
    return found


def _applicant(data: SubmitData) -> Applicant:
    given = data.applicant
    return Applicant(
        name=given.name.strip(),
        id_number=given.id_number.strip(),
        phone=given.phone.strip(),
        email=given.email.strip(),
        address=given.address.strip(),
    )


def _procedure(code: str, *, full: bool = False) -> AgencyProcedure:
    procedure = procedure_by_code(code) if full else procedure_ref_by_code(code)
    if procedure is None:
        raise ApiError(
            404,
            "procedure_unknown",
            _("This agency has no procedure with the code “%(code)s”.") % {"code": code[:40]},
        )
    return procedure


def _receipt(request: HttpRequest, result: SubmitResult) -> dict[str, Any]:
    dossier = result.dossier
    tracking = reverse("portal-tracking") + f"?ma={dossier.code}&bi-mat={dossier.lookup_secret}"
    return {
        "code": dossier.code,
        "lookup_secret": dossier.lookup_secret,
        "status": dossier.status,
        "received_at": dossier.received_at,
        "due_date": dossier.due_date,
        "created": result.created,
        "external_id": dossier.external_id,
        "tracking_url": request.build_absolute_uri(tracking),
    }


def _not_accepting(exc: Exception) -> None:
    """The procedure exists but takes no dossiers now (unpublished, not online): 409."""
    code = getattr(exc, "code", None)
    if code in ("unpublished", "not_online"):
        raise ApiError(409, f"procedure_{code}", " ".join(getattr(exc, "messages", [str(exc)])))


@api.get(
    "/procedures",
    response={200: ProcedureListOut, **ERRORS},
    auth=KeyAuth(Scope.PROCEDURES_READ),
    summary="List published procedures",
    description="Needs the permission `procedures:read`.",
    tags=["procedures"],
)
def list_procedures(
    request: HttpRequest,
    q: Query[str] = "",
    sector: Query[str] = "",
) -> dict[str, Any]:
    items = [procedure_out(p) for p in published_procedures(search=q[:100], sector=sector[:150])]
    return {"count": len(items), "items": items}


@api.get(
    "/procedures/{code}",
    response={200: ProcedureDetailOut, **ERRORS},
    auth=KeyAuth(Scope.PROCEDURES_READ),
    summary="One published procedure, with its steps",
    description="Needs the permission `procedures:read`.",
    tags=["procedures"],
)
def get_procedure(request: HttpRequest, code: str) -> dict[str, Any]:
    procedure = _procedure(code, full=True)
    if not procedure.is_published or procedure.published_version is None:
        raise ApiError(
            404,
            "procedure_unpublished",
            _("The procedure “%(name)s” is no longer offered by this agency.")
            % {"name": procedure.name},
        )
    return procedure_out(procedure, detail=True)


@api.post(
    "/procedures/{code}/dossiers",
    response={201: ReceiptOut, 409: ErrorOut, **ERRORS},
    auth=KeyAuth(Scope.DOSSIERS_WRITE),
    summary="Submit a dossier with its files",
    description=(
        "Needs the permission `dossiers:write`. Multipart: `data` is JSON "
        '`{"applicant": {"name", "id_number", "phone", "email", "address"}, '
        '"form": {"<field key>": "<answer>"}}`; files go in `component_<n>` parts. '
        "Everything is checked first; the dossier, its documents and its history are "
        "written in one transaction, or nothing is."
    ),
    tags=["dossiers"],
    openapi_extra=_multipart_body("JSON: applicant and form answers"),
)
def submit_dossier(request: HttpRequest, code: str, data: Form[str]) -> Status[dict[str, Any]]:
    procedure = _procedure(code)
    parsed = _parse(SubmitData, data)
    files = _uploads(request)
    try:
        result = dossier_submit(
            agency=_agency(request),
            procedure=procedure,
            applicant=_applicant(parsed),
            form_data=parsed.form,
            files=files,
            channel=Channel.ONLINE,
        )
    except Exception as exc:
        _not_accepting(exc)
        raise
    return Status(201, _receipt(request, result))


@api.get(
    "/dossiers/{code}",
    response={200: DossierOut, **ERRORS},
    auth=KeyAuth(Scope.DOSSIERS_READ),
    summary="A dossier's status and history",
    description="Needs the permission `dossiers:read`.",
    tags=["dossiers"],
)
def get_dossier(request: HttpRequest, code: str) -> dict[str, Any]:
    dossier = dossier_by_code(code)
    if dossier is None:
        raise ApiError(
            404, "dossier_unknown", _("No dossier has the code “%(code)s”.") % {"code": code[:40]}
        )
    return _dossier_out(dossier)


def _dossier_out(dossier: Dossier) -> dict[str, Any]:
    return {
        "code": dossier.code,
        "procedure_code": dossier.procedure.code,
        "procedure_name": dossier.procedure.name,
        "channel": dossier.channel,
        "status": dossier.status,
        "status_label": str(DossierStatus(dossier.status).label),
        "external_id": dossier.external_id,
        "received_at": dossier.received_at,
        "due_date": dossier.due_date,
        "completed_at": dossier.completed_at,
        "fee_amount": dossier.fee_amount,
        "fee_paid": dossier.fee_paid,
        "history": [
            {
                "at": e.at,
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "summary": e.summary,
            }
            for e in dossier.events.all()
        ],
        "documents": [
            {
                "component_position": d.component_position,
                "component_name": d.component_name,
                "name": d.original_name,
                "content_type": d.content_type,
                "size": d.size,
                "sha256": d.sha256,
            }
            for d in dossier.documents.all()
        ],
    }


def _received_at(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + FUTURE_TOLERANCE:
        raise errors.invalid({"data.received_at": [_("This time is in the future.")]})
    return value


@api.post(
    "/inbound/dossiers",
    response={200: ReceiptOut, 201: ReceiptOut, 409: ErrorOut, **ERRORS},
    auth=KeyAuth(Scope.INBOUND),
    summary="Deliver a dossier submitted on the national portal",
    description=(
        "Needs the permission `inbound`. Idempotent by `external_id`: the same delivery "
        "again answers 200 with the dossier already received; different content under a "
        "known `external_id` answers 409. Multipart: `data` is JSON "
        '`{"external_id", "procedure_code", "received_at"?, "applicant": {…}, "form": {…}}`; '
        "files go in `component_<n>` parts."
    ),
    tags=["inbound"],
    openapi_extra=_multipart_body("JSON: external id, procedure code, applicant, form"),
)
def inbound_dossier(request: HttpRequest, data: Form[str]) -> Status[dict[str, Any]]:
    parsed: InboundData = _parse(InboundData, data)
    procedure = _procedure(parsed.procedure_code)
    received_at = _received_at(parsed.received_at)
    files = _uploads(request)
    raw: Mapping[str, Any] = parsed.model_dump(mode="json")
    try:
        result = dossier_receive_inbound(
            agency=_agency(request),
            procedure=procedure,
            external_id=parsed.external_id.strip(),
            data=raw,
            applicant=_applicant(parsed),
            form_data=parsed.form,
            files=files,
            received_at=received_at,
        )
    except Exception as exc:
        _not_accepting(exc)
        raise
    return Status(201 if result.created else 200, _receipt(request, result))
