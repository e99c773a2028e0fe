"""The tenant-aware cache key function, and a Redis backend that reuses its clients.

``make_key`` (the default cache's ``KEY_FUNCTION``) prefixes every key with the current
schema, so agency A never reads agency B's entries; except the few keys that must mean
the same thing on every host. Those are allauth's: its rate-limit counters (failed
sign-ins per account and per client, second-factor guesses) and the TOTP codes already
used. allauth writes them to the default cache; prefixed with the schema, each agency's
host would count its own failures, so a locked account would sign in on another host
and a used code could be replayed there. They go to one platform-wide key space instead.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` object for every
cache call, and redis-py's constructor copies its response-callback table each
time (~0.1 ms, more than the round trip itself): that showed on every portal
page (branding, rate limits, sessions). A client only wraps its pool and is
thread-safe, so one per pool is enough. Everything else is Django's backend.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django_tenants.cache import make_key as tenant_make_key

# Keys of the default cache that are the same on every host (allauth.core.internal.ratelimit
# and allauth.mfa.totp.internal.auth name theirs so). Their lock keys share the prefix.
PLATFORM_WIDE_PREFIXES = ("allauth:rl:", "allauth.mfa.totp.used?")
# Stands where the schema would: never a schema name (those are [a-z0-9_]).
PLATFORM_WIDE_MARK = "*"


def make_key(key: str, key_prefix: str, version: int) -> str:
    if key.startswith(PLATFORM_WIDE_PREFIXES):
        return f"{PLATFORM_WIDE_MARK}:{key_prefix}:{version}:{key}"
    return str(tenant_make_key(key, key_prefix, version))


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        this: Any = self  # django-stubs do not declare the backend's private helpers
        pool = this._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = this._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
