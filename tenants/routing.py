"""Hostname → agency routing, with a two-level cache so a warm request costs no query.

Level 1 is a dict in each process; level 2 is the shared ``platform`` cache
(Redis); the database is asked only on a miss. A change to an agency or one of
its domains deletes the level-2 entries and bumps a shared *generation*
counter; every process compares its generation at most once a second and drops
its level-1 entries when it moved. So a change reaches every process within a
second, and the process that made it at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import DisallowedHost
from django.db.models.base import ModelState
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotFound,
    HttpResponsePermanentRedirect,
)
from django.http.request import split_domain_port
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from tenants.db import connection
from tenants.http import AgencyRequest
from tenants.models import Agency, AgencyStatus, Domain

GENERATION_KEY = "route:generation"
ENTRY_TTL = 600  # seconds an entry may live in the shared cache
MISSING_TTL = 30  # unknown hosts are remembered briefly, so junk hosts cannot hammer the DB
LOCAL_TTL = 300
GENERATION_CHECK_SECONDS = 1.0
_MISSING = "-"
PUBLIC_SCHEMA = "public"


@dataclass(frozen=True)
class Route:
    """Where a hostname goes: the public site, an agency, or nowhere."""

    kind: str  # "public", "agency" or "unknown"
    agency: Agency | None = None


PUBLIC_ROUTE = Route("public")
UNKNOWN_ROUTE = Route("unknown")


def _entry_key(host: str) -> str:
    return f"route:v1:host:{host}"


def _agency_fields(agency: Agency) -> dict[str, Any]:
    """Plain values for the shared cache (no pickled model classes across deployments)."""
    return {f.attname: getattr(agency, f.attname) for f in Agency._meta.concrete_fields}


def _agency_from_fields(values: dict[str, Any]) -> Agency:
    agency = Agency(**values)
    agency._state.adding = False
    agency._state.db = "default"
    return agency


class HostRouter:
    def __init__(self) -> None:
        self._local: dict[str, tuple[Route, float]] = {}
        self._generation: int | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    @property
    def _cache(self) -> Any:
        return caches["platform"]

    def _sync_generation(self, now: float) -> None:
        if now - self._checked_at < GENERATION_CHECK_SECONDS:
            return
        self._checked_at = now
        generation = self._cache.get(GENERATION_KEY)
        if generation != self._generation:
            with self._lock:
                self._local.clear()
                self._generation = generation

    def resolve(self, host: str) -> Route:
        if host in settings.PLATFORM_PUBLIC_HOSTS:
            return PUBLIC_ROUTE
        now = time.monotonic()
        self._sync_generation(now)
        hit = self._local.get(host)
        if hit is not None and hit[1] > now:
            return hit[0]
        route = self._resolve_shared(host)
        with self._lock:
            if len(self._local) > 10_000:  # bounded: junk Host headers cannot grow it forever
                self._local.clear()
            self._local[host] = (route, now + (LOCAL_TTL if route.agency else MISSING_TTL))
        return route

    def _resolve_shared(self, host: str) -> Route:
        cached = self._cache.get(_entry_key(host))
        if cached == _MISSING:
            return UNKNOWN_ROUTE
        if isinstance(cached, dict):
            return Route("agency", _agency_from_fields(cached))
        agency = self._lookup_database(host)
        if agency is None:
            self._cache.set(_entry_key(host), _MISSING, MISSING_TTL)
            return UNKNOWN_ROUTE
        self._cache.set(_entry_key(host), _agency_fields(agency), ENTRY_TTL)
        return Route("agency", agency)

    @staticmethod
    def _lookup_database(host: str) -> Agency | None:
        previous = connection.tenant
        connection.set_schema_to_public()
        try:
            domain = Domain.objects.select_related("tenant").filter(domain=host).first()
        finally:
            connection.set_tenant(previous)
        return domain.tenant if domain else None

    def invalidate(self, hosts: Iterable[str]) -> None:
        """Forget the given hostnames everywhere (called after commit of a change)."""
        keys = [_entry_key(h) for h in hosts]
        if keys:
            self._cache.delete_many(keys)
        try:
            self._cache.incr(GENERATION_KEY)
        except ValueError:
            self._cache.set(GENERATION_KEY, 1, None)
        with self._lock:
            self._local.clear()
            self._generation = None
            self._checked_at = 0.0

    def clear_local(self) -> None:
        with self._lock:
            self._local.clear()


router = HostRouter()


def invalidate_agency(agency: Agency) -> None:
    caches["platform"].delete(_merged_key(agency.pk))
    router.invalidate(Domain.objects.filter(tenant=agency).values_list("domain", flat=True))


def _merged_key(agency_id: int) -> str:
    return f"route:v1:merged:{agency_id}"


def merged_host(agency: Agency) -> str:
    """Primary hostname of the agency a merged agency now lives in (following later merges).

    Cached in the shared cache; a merge invalidates the routes of the merged agency's hosts
    (its status changes), and the target's primary host rarely changes (``ENTRY_TTL``).
    """
    cache = caches["platform"]
    key = _merged_key(agency.pk)
    found = cache.get(key)
    if isinstance(found, str):
        return found
    current: Agency | None = agency
    seen: set[int] = set()
    while current is not None and current.merged_into_id and current.pk not in seen:
        seen.add(current.pk)
        current = Agency.objects.filter(pk=current.merged_into_id).first()
        if current is not None and current.status != AgencyStatus.MERGED:
            break
    host = ""
    if current is not None and current.pk != agency.pk:
        domain = Domain.objects.filter(tenant=current).order_by("-is_primary", "id").first()
        host = domain.domain if domain else ""
    cache.set(key, host, ENTRY_TTL if host else 5)
    return host


def request_hostname(request: HttpRequest) -> str:
    host, _port = split_domain_port(request.get_host())
    return host


def platform_url(request: HttpRequest) -> str:
    """The public site's address, on the scheme and port this request came in on."""
    port = request.get_port()
    default = "443" if request.is_secure() else "80"
    suffix = "" if port == default else f":{port}"
    return f"{request.scheme}://{settings.PLATFORM_PUBLIC_HOSTS[0]}{suffix}/"


def _request_copy(agency: Agency) -> Agency:
    """A shallow copy of a routed agency for one request (cheaper than copy.copy)."""
    clone = Agency.__new__(Agency)
    clone.__dict__.update(agency.__dict__)
    clone._state = ModelState()
    clone._state.adding = False
    clone._state.db = agency._state.db
    return clone


class AgencyRoutingMiddleware:
    """Select the agency schema and URLconf from the Host header; 404 for unknown hosts."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._validated: dict[str, str] = {}  # raw Host header → validated hostname

    def __call__(self, http_request: HttpRequest) -> HttpResponse:
        request = cast(AgencyRequest, http_request)
        raw = request.META.get("HTTP_HOST", "")
        host = self._validated.get(raw) if raw else None
        if host is None:
            try:
                host = request_hostname(request)
            except DisallowedHost:  # a malformed Host header
                return HttpResponseBadRequest(_("Bad Host header."))
            if raw and not settings.USE_X_FORWARDED_HOST:
                # Validation depends only on the header and settings: remember it.
                if len(self._validated) > 10_000:
                    self._validated.clear()
                self._validated[raw] = host
        route = router.resolve(host)
        if route.kind == "public":
            if connection.cluster is not None:  # left on another cluster by an agency's request
                connection.use_cluster(None)
            if connection.schema_name != PUBLIC_SCHEMA:
                connection.set_schema_to_public()
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            request.agency = None
            request.tenant = connection.tenant
            return self.get_response(request)
        agency = route.agency
        if agency is not None and agency.status == AgencyStatus.MERGED:
            connection.set_schema_to_public()
            target = merged_host(agency)
            if target:  # the same page at the agency it merged into (old receipts' links too)
                _host, port = split_domain_port(request.get_host())
                location = f"{request.scheme}://{target}{':' + port if port else ''}"
                return HttpResponsePermanentRedirect(location + request.get_full_path())
        if agency is None or not agency.is_servable:
            if connection.cluster is not None:
                connection.use_cluster(None)
            connection.set_schema_to_public()
            return self.unavailable(request, host, agency)
        # The routed Agency is shared by every request (and thread) of this process:
        # never mutate it; each request gets its own copy with its own hostname.
        agency = _request_copy(agency)
        agency.domain_url = host
        # The cached row names the agency's cluster too: set_tenant moves the connection there
        # (tenants.cluster_backend); no query either way.
        moved = connection.cluster_name != agency.cluster
        if connection.schema_name != agency.schema_name or moved:
            connection.set_tenant(agency)
        else:
            connection.tenant = agency
        request.urlconf = settings.ROOT_URLCONF
        request.agency = agency
        request.tenant = agency
        if settings.SENTRY_DSN:
            from core.sentry import tag_agency

            tag_agency(schema_name=agency.schema_name, agency_name=agency.name)
        return self.get_response(request)

    @staticmethod
    def unavailable(request: HttpRequest, host: str, agency: Agency | None) -> HttpResponse:
        html = render_to_string(
            "errors/unknown_host.html",
            {
                "host": host,
                "agency": agency,
                "platform_name": settings.PLATFORM_NAME,
                "platform_url": platform_url(request),
            },
        )
        return HttpResponseNotFound(html)


SESSION_AGENCY_KEY = "_agency_schema"


class SessionAgencyBindingMiddleware:
    """A session belongs to the host (agency) it was created on.

    Cookies are host-only already; this also refuses a session id carried over
    to another agency's host by hand: that request gets a fresh, empty session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        schema = connection.schema_name
        session = request.session
        bound = session.get(SESSION_AGENCY_KEY)
        if bound is not None and bound != schema:
            from importlib import import_module

            engine = import_module(settings.SESSION_ENGINE)
            request.session = engine.SessionStore()
        response = self.get_response(request)
        session = request.session
        # Bind on first use: a session holding anything (a login, a draft) belongs here now.
        if session.session_key and not session.is_empty() and SESSION_AGENCY_KEY not in session:
            session[SESSION_AGENCY_KEY] = schema
        return response
