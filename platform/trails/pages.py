"""The trail's pages, for the apps that serve them (agency admin, provider console).

A lower layer: who may read a trail is the serving app's decision (its decorators); here are
the filter forms, the paginated page and the streamed CSV export."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.labels import action_label, kind_label
from trails import selectors
from trails.forms import TrailFilterForm
from trails.selectors import PROVIDER_KINDS, TrailRow

PAGE_SIZE = 50
EXPORT_BATCH = 1000


def _people(rows: list[TrailRow]) -> dict[int, str]:
    """Who each actor id is (e-mail, and name if known), in one query per batch."""
    ids = {row.actor_id for row in rows if row.actor_id is not None}
    return {
        pk: f"{name} <{email}>" if name else email
        for pk, email, name in get_user_model()
        .objects.filter(pk__in=ids)
        .values_list("pk", "email", "full_name")
    }


def _display(rows: list[TrailRow]) -> list[dict[str, Any]]:
    people = _people(rows)
    return [
        {
            "at": row.at,
            "who": people.get(row.actor_id, "") if row.actor_id is not None else row.actor_email,
            "action": row.action,
            "action_label": action_label(row.action),
            "obj": row.obj,
            "kind": kind_label(row.kind),
            "detail": _detail_text(row),
        }
        for row in rows
    ]


def _detail_text(row: TrailRow) -> str:
    parts = [f"{key}: {value}" for key, value in sorted((row.info or {}).items())]
    if row.note:
        parts.append(row.note)
    return "; ".join(parts)


class _Echo:
    """A file-like object csv.writer writes one line to, handing it straight back."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(
    values: Iterable[dict[str, Any]], enter: Callable[[], Any]
) -> Iterator[str]:  # fmt: skip
    """The trail as CSV lines, read in batches while the response streams.

    ``enter`` re-enters the schema the trail lives in: the response is read after the view
    (and the request's schema) has returned.
    """
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so spreadsheet programs read UTF-8
    yield writer.writerow(
        [_("Time"), _("Person"), _("Action"), _("Action code"), _("Object"), _("Kind"),
         _("Detail")]
    )  # fmt: skip
    with enter():
        batch: list[TrailRow] = []
        iterator = iter(values)
        while True:
            batch = selectors.trail_rows(_take(iterator, EXPORT_BATCH))
            if not batch:
                break
            for item in _display(batch):
                yield writer.writerow(
                    [
                        timezone.localtime(item["at"]).strftime("%Y-%m-%d %H:%M:%S"),
                        item["who"],
                        item["action_label"],
                        item["action"],
                        item["obj"],
                        item["kind"],
                        item["detail"],
                    ]
                )


def _take(iterator: Iterator[Any], n: int) -> list[Any]:
    out = []
    for _i in range(n):
        try:
            out.append(next(iterator))
        except StopIteration:
            break
    return out


def trail_page(
    request: HttpRequest,
    *,
    template: str,
    form: TrailFilterForm,
    trail: Any,
    export_url: str,
    extra: dict[str, Any],
) -> HttpResponse:
    context: dict[str, Any] = {"form": form, "export_url": export_url, **extra}
    if form.is_bound and not form.is_valid():
        return render(request, template, {**context, "page": None, "query": ""}, status=400)
    page = Paginator(trail, PAGE_SIZE).get_page(request.GET.get("trang"))
    query = request.GET.copy()
    query.pop("trang", None)
    context.update(
        page=page,
        rows=_display(selectors.trail_rows(page.object_list)),
        query=query.urlencode(),
    )
    return render(request, template, context)


def trail_export(
    request: HttpRequest, form: TrailFilterForm, trail: Any, name: str, enter: Callable[[], Any]
) -> HttpResponse | None:
    if form.is_bound and not form.is_valid():
        return None
    response = StreamingHttpResponse(
        _csv_lines(trail.iterator(chunk_size=EXPORT_BATCH), enter),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="nhat-ky-{name}-{stamp}.csv"'
    # Typed as HttpResponse for the role decorators; a streaming response serves the same.
    return cast(HttpResponse, response)


# -- The forms of the two trails --------------------------------------------------------------

AGENCY_TEMPLATE = "audit/agency_trail.html"
PROVIDER_TEMPLATE = "audit/provider_trail.html"


def agency_trail_form(request: HttpRequest) -> TrailFilterForm:
    return TrailFilterForm(request.GET or None, actions=selectors.agency_trail_actions())


def provider_trail_form(request: HttpRequest) -> TrailFilterForm:
    return TrailFilterForm(
        request.GET or None,
        actions=selectors.provider_trail_actions(),
        kinds=[(kind, kind_label(kind)) for kind in PROVIDER_KINDS],
    )
