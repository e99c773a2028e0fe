"""Fixed-window rate limits in the shared cache (e.g. public dossier lookups per IP)."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    count: int
    retry_after: int


def client_ip(request: HttpRequest) -> str:
    """The client's address. X-Forwarded-For is believed only as far as settings say proxies
    stand in front of us (TRUSTED_PROXY_COUNT); otherwise anyone could pick their own IP."""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    forwarded = [
        p.strip() for p in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if p.strip()
    ]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def client_bucket(request: HttpRequest) -> str:
    """Who counts as one client for a limit on guesses: its address, or for IPv6 its /64
    (one subscriber is handed a whole /64, so single addresses would cost nothing)."""
    address = client_ip(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False).network_address) + "/64"
    return str(parsed)


def rate_key(*, scope: str, key: str, window: int) -> str:
    """The counter of ``key`` in ``scope`` for the current window."""
    return f"rate:{scope}:{key}:{int(time.time() // window)}"


def rate_decision(*, count: int, limit: int, window: int) -> RateDecision:
    """Whether a key whose counter reads ``count`` may try again (see rate_peek)."""
    return RateDecision(count < limit, count, window - int(time.time() % window))


def rate_hit(*, scope: str, key: str, limit: int, window: int) -> RateDecision:
    """Count one attempt for ``key`` in ``scope``; refuse past ``limit`` per ``window`` seconds.

    Uses the cross-tenant ``platform`` cache on purpose: the scope names the agency
    where that matters, and an attacker must not get a fresh budget per host.
    """
    cache = caches["platform"]
    cache_key = rate_key(scope=scope, key=key, window=window)
    cache.add(cache_key, 0, timeout=window + 5)
    count = int(cache.incr(cache_key))
    retry_after = window - int(time.time() % window)
    return RateDecision(count <= limit, count, retry_after)


def rate_peek(*, scope: str, key: str, limit: int, window: int) -> RateDecision:
    """Whether ``key`` is still under ``limit`` without counting an attempt."""
    count = int(caches["platform"].get(rate_key(scope=scope, key=key, window=window), 0))
    return rate_decision(count=count, limit=limit, window=window)
