"""Whole-page cache for anonymous visitors of an agency's public pages.

The procedure pages are read far more than they change, and mostly by people
who have not signed in. For a request without a session or messages cookie,
the rendered page is kept in the default cache — whose keys carry the agency's
schema, so agencies never see each other's pages — under the language, the
agency's status and a per-agency *generation* that every publication bumps.
Each process remembers an agency's generation for a second, so a cached page
costs one cache round trip; another process sees a publication within that second.

The portal keeps its successful tracking lookups under the same generation
(``portal.tracking_cache``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

from tenants.db import connection

GENERATION_KEY = "portal:pages:generation"
PAGE_SECONDS = 600
GENERATION_MEMORY_SECONDS = 1.0

_generations: dict[str, tuple[int, float]] = {}
_generations_lock = threading.Lock()


def generation() -> int:
    schema = connection.schema_name
    now = time.monotonic()
    remembered = _generations.get(schema)
    if remembered is not None and now - remembered[1] < GENERATION_MEMORY_SECONDS:
        return remembered[0]
    value = int(cache.get(GENERATION_KEY, 0))
    with _generations_lock:
        _generations[schema] = (value, now)
    return value


V = TypeVar("V", bound=Callable[..., HttpResponse])


def portal_pages_changed() -> None:
    """Forget every cached page of the active agency (call after commit)."""
    with _generations_lock:
        _generations.pop(connection.schema_name, None)
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)


def cacheable_request(request: HttpRequest) -> bool:
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def cache_public_page(view: V) -> V:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not cacheable_request(request):
            return view(request, *args, **kwargs)
        agency = getattr(request, "agency", None)
        current = generation()
        digest = hashlib.blake2s(request.get_full_path().encode(), digest_size=12).hexdigest()
        key = f"portal:page:{current}:{get_language()}:{getattr(agency, 'status', '')}:{digest}"
        hit = cache.get(key)
        if hit is not None:
            content_type, body = hit
            response = HttpResponse(body, content_type=content_type)
            response["X-Page-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies and not response.streaming:
            cache.set(key, (response["Content-Type"], response.content), PAGE_SECONDS)
            response["X-Page-Cache"] = "miss"
        return response

    return cast(V, wrapper)


def cached_many(keys: Iterable[str]) -> dict[str, Any]:
    """Several ``platform`` cache entries in one round trip (rate counters and a page)."""
    return caches["platform"].get_many(list(keys))
