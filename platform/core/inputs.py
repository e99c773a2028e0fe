"""Text coming into the product: refused if it holds a NUL character, else normalised to NFC.

One mechanism for every entry point. ``RequestInputMiddleware`` applies it to each HTTP
request before anything reads it (the path, the query string, cookies, form fields and
file names, JSON bodies); code that reads text from elsewhere (an uploaded JSON file, the
JSON ``data`` part of an API submission) calls ``clean_json``/``loads``.

Passwords are the one exception to NFC: they are kept exactly as typed (see ``is_secret``).

Why: PostgreSQL cannot store NUL in text, so an unchecked one ends as a 500 deep inside a
query; and Vietnamese in decomposed form (NFD: "ê" + U+0323 instead of "ệ", as Unikey's
"Unicode tổ hợp" types it and macOS names files) would be stored as is, and search,
duplicate checks and sorting would miss it. Both are decided once, here, for every request.
"""

from __future__ import annotations

import io
import json
import logging
import unicodedata
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, QueryDict, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

NUL = "\x00"
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# The request's data could not be read: too large, too many fields, or malformed.
UNREADABLE = (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    MultiPartParserError,
    UnreadablePostError,
)


class NulCharacter(Exception):
    """A NUL character in ``where`` (``"path"``, a parameter or field name, ``data.<path>``)."""

    def __init__(self, where: str, *, kind: str) -> None:
        super().__init__(where)
        self.where = where
        self.kind = kind  # "path", "query", "form", "file", "json", "data"

    @property
    def shown_name(self) -> str:
        """The name as it can be shown (it may hold the NUL itself)."""
        return self.where.replace(NUL, "␀")[:60]

    def location(self) -> str:
        name = self.shown_name
        if self.kind == "path":
            return _("in the address")
        if self.kind == "query":
            return _("in the parameter “%(name)s”") % {"name": name}
        if self.kind == "file":
            return _("in the name of the file sent as “%(name)s”") % {"name": name}
        if self.kind in ("json", "data"):
            return _("in the JSON data at “%(name)s”") % {"name": name}
        return _("in the field “%(name)s”") % {"name": name}

    def message(self) -> str:
        return _(
            "The request contains a NUL character (code 0) %(where)s, which is not allowed. "
            "Remove it and try again."
        ) % {"where": self.location()}


def clean_text(value: str, *, where: str = "", kind: str = "form") -> str:
    """``value`` in NFC; NulCharacter if it holds a NUL. Cheap for plain ASCII."""
    if NUL in value:
        raise NulCharacter(where or value, kind=kind)
    if value.isascii() or unicodedata.is_normalized("NFC", value):
        return value
    return unicodedata.normalize("NFC", value)


def clean_json(value: Any, *, where: str = "data", kind: str = "data") -> Any:
    """A parsed JSON document with every key and string in NFC; NulCharacter on a NUL
    (``where`` is then the dotted path of the value, e.g. ``data.form.name``)."""
    if isinstance(value, str):
        return clean_text(value, where=where, kind=kind)
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            name = clean_text(key, where=path, kind=kind) if isinstance(key, str) else key
            cleaned[name] = clean_json(item, where=path, kind=kind)
        return cleaned
    if isinstance(value, list):
        return [clean_json(item, where=f"{where}.{i}", kind=kind) for i, item in enumerate(value)]
    return value


def loads(raw: bytes | str, *, where: str = "data") -> Any:
    """``json.loads`` then ``clean_json``: for JSON read from files and form parts.
    Invalid JSON raises ValueError as ``json.loads`` does."""
    return clean_json(json.loads(raw), where=where)


def keeps_raw_body(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view whose request body must reach it byte for byte (a signed webhook):
    its JSON is still checked for NUL characters but never rewritten."""
    view.keeps_raw_body = True  # type: ignore[attr-defined]
    return view


def is_secret(name: str) -> bool:
    """A password field (allauth's password, password1, password2, oldpassword, …)."""
    return "password" in name.lower()


def _clean_querydict(data: QueryDict, *, kind: str) -> QueryDict | None:
    """A cleaned copy of ``data``, or None when nothing needed changing."""
    changed = False
    items: list[tuple[str, list[str]]] = []
    for key, values in data.lists():
        name = clean_text(key, where=key, kind=kind)
        if is_secret(name):
            # Compared through its hash, byte for byte as it was set: normalising it would
            # lock out whoever chose it in decomposed form. Still no NUL.
            for value in values:
                if NUL in value:
                    raise NulCharacter(name, kind=kind)
            items.append((name, values))
            continue
        cleaned = [clean_text(v, where=name, kind=kind) for v in values]
        changed = changed or name != key or cleaned != values
        items.append((name, cleaned))
    if not changed:
        return None
    copy = QueryDict(mutable=True, encoding=data.encoding)
    for name, cleaned in items:
        for value in cleaned:
            copy.appendlist(name, value)
    copy._mutable = False
    return copy


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _wants_json(request: HttpRequest) -> bool:
    return _is_api(request) or request.content_type == "application/json"


def json_refusal(exc: Exception) -> HttpResponse:
    """A refusal in the shape the API answers with: written by the API app and named in
    ``settings.INPUT_JSON_REFUSAL`` (this module sits below every app)."""
    return cast(HttpResponse, import_string(settings.INPUT_JSON_REFUSAL)(exc))


class RequestInputMiddleware:
    """Refuse NUL characters and normalise text to NFC in everything a request carries.

    Placed right after the agency router (so the refusal names the agency's host) and
    before sessions (a NUL in a cookie would otherwise reach the session query). A
    refusal is answered here, in the visitor's language, with a 400: a page, or the
    API's JSON error shape under ``/api/``. Nothing is logged beyond a warning line:
    it is the sender's mistake, not ours.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            self._clean(request)
        except NulCharacter as exc:
            logger.warning("refused a NUL character (%s) in %s", exc.kind, request.path_info[:200])
            return self._refusal(request, exc)
        except UNREADABLE as exc:
            logger.warning("refused unreadable request data (%s)", type(exc).__name__)
            return self._unreadable(request, exc)
        return self.get_response(request)

    def _clean(self, request: HttpRequest) -> None:
        self._clean_path(request)
        self._clean_cookies(request)
        query = request.META.get("QUERY_STRING", "")
        if query and (not query.isascii() or "%" in query or NUL in query):
            cleaned = _clean_querydict(request.GET, kind="query")
            if cleaned is not None:
                request.GET = cleaned  # type: ignore[assignment]
        if request.method not in BODY_METHODS:
            return
        content_type = request.content_type or ""
        if request.method == "POST" and content_type in FORM_CONTENT_TYPES:
            # Parsing the form consumes the body: a view that reads it raw keeps it.
            if not _keeps_raw_body(request):
                self._clean_form(request)
        elif content_type == "application/json" or content_type.endswith("+json"):
            self._clean_json_body(request)

    @staticmethod
    def _clean_path(request: HttpRequest) -> None:
        path_info = request.path_info
        if path_info.isascii() and NUL not in path_info:
            return
        cleaned = clean_text(path_info, where="path", kind="path")
        if cleaned != path_info:
            prefix = request.path[: len(request.path) - len(path_info)]
            request.path_info = cleaned
            request.path = prefix + cleaned

    @staticmethod
    def _clean_cookies(request: HttpRequest) -> None:
        # A cookie is not typed by the person: one holding a NUL (a broken or forged
        # client) is ignored, as if absent, instead of locking the visitor out.
        if any(NUL in k or NUL in v for k, v in request.COOKIES.items()):
            request.COOKIES = {
                k: v for k, v in request.COOKIES.items() if NUL not in k and NUL not in v
            }

    @staticmethod
    def _clean_form(request: HttpRequest) -> None:
        cleaned = _clean_querydict(request.POST, kind="form")
        if cleaned is not None:
            request.POST = cleaned  # type: ignore[assignment]
        for field in request.FILES:  # getlist: every file of a field, not only the last
            for upload in request.FILES.getlist(field):
                name = upload.name or ""
                fixed = clean_text(name, where=field, kind="file")
                if fixed != name:
                    upload.name = fixed

    @staticmethod
    def _clean_json_body(request: HttpRequest) -> None:
        body = request.body
        if not body:
            return
        if b"\x00" in body:
            raise NulCharacter("data", kind="json")
        try:
            document = json.loads(body)
        except ValueError:
            return  # not JSON after all: the view answers that in its own words
        cleaned = clean_json(document, where="data", kind="json")
        if cleaned == document or _keeps_raw_body(request):
            return
        new = json.dumps(cleaned, ensure_ascii=False).encode()
        # Django offers no public way to replace a body already read: the view reads
        # request.body (or the stream) as if the client had sent the normalised text.
        request._body = new
        request._stream = io.BytesIO(new)
        request.META["CONTENT_LENGTH"] = str(len(new))

    # -- Answers -------------------------------------------------------------------------

    @staticmethod
    def _language(request: HttpRequest) -> str:
        return translation.get_language_from_request(request)

    def _refusal(self, request: HttpRequest, exc: NulCharacter) -> HttpResponse:
        with translation.override(self._language(request)):
            message = exc.message()
            if _wants_json(request):
                return json_refusal(exc)
            return self._page(request, _("The request cannot be accepted"), message, 400)

    def _unreadable(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        with translation.override(self._language(request)):
            if _wants_json(request):
                return json_refusal(exc)
            if isinstance(exc, RequestDataTooBig):
                message = _("What you sent is too large. Send smaller files, or fewer at a time.")
                status = 413
            elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
                message = _("The form has too many fields or files.")
                status = 413
            else:
                message = _("What you sent could not be read. Please try again.")
                status = 400
            return self._page(request, _("The request cannot be accepted"), message, status)

    @staticmethod
    def _page(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
        agency = getattr(request, "agency", None)
        html = render_to_string(
            "errors/bad_request.html",
            {
                "title": title,
                "message": message,
                "agency": agency,
                "platform_name": settings.PLATFORM_NAME,
            },
        )
        response = HttpResponse(html, status=status)
        response["Cache-Control"] = "no-store"
        return response


def _keeps_raw_body(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return bool(getattr(match.func, "keeps_raw_body", False))
