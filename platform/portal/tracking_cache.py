"""Successful public tracking lookups (dossier code + lookup secret), kept per dossier in the
``platform`` cache next to the rate-limit counters, so a repeated lookup is one round trip;
any change to the dossier or its history drops them (``portal.signals``). Under the agency's
page generation (``tenants.pagecache``): a branding change re-renders them too."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse

from dossiers.codes import normalise_secret
from tenants.db import connection
from tenants.pagecache import generation

TRACKING_SECONDS = 300


def tracking_page_key(*, code: str, secret: str, language: str, schema: str = "") -> str:
    """Where a successful anonymous lookup's page is kept (``platform`` cache: name the agency)."""
    digest = hashlib.blake2s(
        f"{code.strip().upper()}\0{normalise_secret(secret)}".encode(), digest_size=12
    ).hexdigest()
    # The generation: a branding change re-renders these pages too.
    return f"portal:track:{schema or connection.schema_name}:{generation()}:{digest}:{language}"


def tracking_pages_forget(*, code: str, secret: str, schema: str = "") -> None:
    """Drop the cached lookup pages of one dossier, in every language."""
    caches["platform"].delete_many(
        [
            tracking_page_key(code=code, secret=secret, language=lang, schema=schema)
            for lang, _name in settings.LANGUAGES
        ]
    )


def tracking_page_keep(key: str, response: HttpResponse) -> None:
    caches["platform"].set(key, (response["Content-Type"], response.content), TRACKING_SECONDS)
