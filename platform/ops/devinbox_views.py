"""The development inbox's pages (``/dev/hop-thu/``): 404 unless it is on (local settings).

On the public host: every agency's messages, filtered by agency; on an agency's host: that
agency's only. No sign-in: the inbox exists on a developer's machine only.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from ops import devinbox
from tenants.db import connection
from tenants.models import Agency


def _names() -> dict[str, str]:
    names = dict(Agency.objects.values_list("schema_name", "name"))
    names["public"] = "MotCua Cloud"
    return names


def _scope(request: HttpRequest) -> str:
    """The schema this host may see ("" on the public host: all of them)."""
    agency = getattr(request, "agency", None)
    return agency.schema_name if agency is not None else ""


@never_cache
def inbox(request: HttpRequest) -> HttpResponse:
    if not devinbox.inbox_enabled():
        raise Http404
    scope = _scope(request)
    schema = scope or request.GET.get("co-quan", "")
    kind = request.GET.get("loai", "")
    kind = kind if kind in ("email", "sms") else ""
    names = _names()
    counts = devinbox.inbox_schemas()
    return render(
        request,
        "ops/dev_inbox.html",
        {
            "messages_found": devinbox.inbox_messages(schema=schema, kind=kind),
            "schema": schema,
            "kind": kind,
            "scoped": bool(scope),
            "names": names,
            "agencies": [(s, names.get(s, s), n) for s, n in counts.items()],
            "public_host": connection.schema_name == "public",
        },
    )


@never_cache
def inbox_detail(request: HttpRequest, schema: str, message_id: str) -> HttpResponse:
    if not devinbox.inbox_enabled():
        raise Http404
    scope = _scope(request)
    if scope and schema != scope:
        raise Http404
    message = devinbox.inbox_message(schema=schema, message_id=message_id)
    if message is None:
        raise Http404
    return render(
        request,
        "ops/dev_inbox_message.html",
        {"message": message, "agency_name": _names().get(schema, schema)},
    )
