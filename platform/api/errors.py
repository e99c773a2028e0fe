"""One JSON error shape for every refusal of the API, in the request's language:

    {"error": {"code": "invalid", "message": "…", "fields": {"form.child_sex": ["…"]}}}

``fields`` is present when the problem concerns particular inputs. Keys follow the
request: ``data.<path>`` for the JSON document itself, ``applicant.<detail>``,
``form.<key>`` for the procedure's fields, ``component_<n>`` and ``documents`` for files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from pydantic import ValidationError as PydanticValidationError

from core.inputs import NUL, NulCharacter
from lifecycle.submit import ExternalIdConflict


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = {k: list(v) for k, v in (fields or {}).items()}
        self.headers = dict(headers or {})


def error_response(error: ApiError) -> JsonResponse:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.fields:
        body["fields"] = error.fields
    response = JsonResponse({"error": body}, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


def _schema_message(error_type: str) -> str:
    if error_type == "missing":
        return _("This field is required.")
    if error_type in ("string_type", "string_too_short", "string_too_long"):
        return _("Expected text of the allowed length.")
    if error_type in ("dict_type", "model_type", "model_attributes_type"):
        return _("Expected a JSON object.")
    if error_type.startswith("datetime") or error_type.startswith("timezone"):
        return _("Expected a date and time like 2026-11-23T09:30:00+07:00.")
    if error_type == "json_invalid":
        return _("This is not valid JSON.")
    if error_type == "extra_forbidden":
        return _("This field is not known.")
    return _("This value is not valid.")


def schema_fields(
    errors: Sequence[Mapping[str, Any]], *, root: str = "", from_ninja: bool = False
) -> dict[str, list[str]]:
    """Pydantic's errors as translated messages keyed by the dotted path of the input."""
    fields: dict[str, list[str]] = {}
    for item in errors:
        loc = [str(part) for part in item.get("loc", ())]
        # ninja prefixes the parameter source ("query", "form", "path", ...): drop it.
        if from_ninja and loc:
            loc = loc[1:]
        key = ".".join([root, *loc] if root else loc) or root or "__all__"
        fields.setdefault(key, []).append(_schema_message(str(item.get("type", ""))))
    return fields


def invalid(fields: Mapping[str, Sequence[str]]) -> ApiError:
    return ApiError(
        400, "invalid", _("The request has errors; see the fields listed."), fields=fields
    )


def service_fields(exc: ValidationError) -> dict[str, list[str]]:
    """The service's error keys, in the request's vocabulary (``applicant_name`` →
    ``applicant.name``)."""
    if not hasattr(exc, "error_dict"):
        return {"__all__": list(exc.messages)}
    fields: dict[str, list[str]] = {}
    for key, messages in exc.message_dict.items():
        if key.startswith("applicant_"):
            key = "applicant." + key.removeprefix("applicant_")
        fields.setdefault(key, []).extend(messages)
    return fields


def nul_character_error(exc: NulCharacter) -> ApiError:
    """A NUL character in the request (see ``core.inputs``): named where it was found."""
    field = "path" if exc.kind == "path" else exc.where.replace(NUL, "␀")[:60]
    return ApiError(
        400,
        "invalid_character",
        exc.message(),
        fields={field: [_("This contains a NUL character (code 0), which is not allowed.")]},
    )


def request_data_error(exc: Exception) -> ApiError:
    """The request's data could not be read (see ``core.inputs.UNREADABLE``)."""
    if isinstance(exc, RequestDataTooBig):
        return ApiError(413, "too_large", _("The request's non-file fields are too large."))
    if isinstance(exc, TooManyFilesSent | TooManyFieldsSent):
        return ApiError(413, "too_large", _("The request has too many files or fields."))
    return ApiError(400, "unreadable", _("The request's data could not be read."))


def input_refusal(exc: Exception) -> JsonResponse:
    """``core.inputs``' refusal of an API request (``settings.INPUT_JSON_REFUSAL``)."""
    if isinstance(exc, NulCharacter):
        return error_response(nul_character_error(exc))
    return error_response(request_data_error(exc))


def install(api: NinjaAPI) -> None:
    """Register the handlers that turn every refusal into the shape above."""

    @api.exception_handler(ApiError)
    def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return error_response(exc)

    @api.exception_handler(SchemaValidationError)
    def _schema_error(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
        return error_response(invalid(schema_fields(exc.errors, from_ninja=True)))

    @api.exception_handler(PydanticValidationError)
    def _pydantic_error(request: HttpRequest, exc: PydanticValidationError) -> HttpResponse:
        return error_response(invalid(schema_fields(exc.errors(), root="data")))

    @api.exception_handler(ValidationError)
    def _service_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return error_response(invalid(service_fields(exc)))

    @api.exception_handler(AuthenticationError)
    def _no_key(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(
            ApiError(
                401,
                "not_authenticated",
                _("Send an API key of this agency: “Authorization: Bearer <key>”."),
                headers={"WWW-Authenticate": "Bearer"},
            )
        )

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(ApiError(404, "not_found", _("Not found.")))

    @api.exception_handler(ExternalIdConflict)
    def _conflict(request: HttpRequest, exc: ExternalIdConflict) -> HttpResponse:
        return error_response(
            ApiError(
                409,
                "external_id_conflict",
                _(
                    "A dossier with external id “%(id)s” was already received (%(code)s) "
                    "with different content. Send a new external id for a new dossier."
                )
                % {"id": exc.dossier.external_id, "code": exc.dossier.code},
                fields={"data.external_id": [_("Already used for different content.")]},
            )
        )

    @api.exception_handler(NulCharacter)
    def _nul(request: HttpRequest, exc: NulCharacter) -> HttpResponse:
        return error_response(nul_character_error(exc))

    @api.exception_handler(RequestDataTooBig)
    @api.exception_handler(TooManyFilesSent)
    @api.exception_handler(TooManyFieldsSent)
    def _unreadable(request: HttpRequest, exc: Exception) -> HttpResponse:
        return error_response(request_data_error(exc))

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return error_response(ApiError(exc.status_code, "error", str(exc)))
