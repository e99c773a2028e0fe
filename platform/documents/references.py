"""Documents an agency holds under a printed reference (the QR/link on a signed document).

An app that issues signed documents registers a resolver (in its ``AppConfig.ready``): given
a reference, it answers the document it holds under it in the active agency, or None. The
public verification page (``/xac-thuc/<reference>/``) asks each resolver in turn, shows the
document's facts and the check of the agency's own copy, and compares an uploaded copy with it.
References are random and long: holding the paper is what lets one look it up.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.urls import reverse

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 20  # 32 symbols: 100 bits


@dataclass(frozen=True)
class HeldDocument:
    reference: str
    title: str
    number: str
    issued_at: dt.datetime | None
    sha256: str
    open: Callable[[], IO[bytes]]


Resolver = Callable[[str], HeldDocument | None]
RESOLVERS: list[Resolver] = []


def reference_resolver_register(resolver: Resolver) -> Resolver:
    if resolver not in RESOLVERS:
        RESOLVERS.append(resolver)
    return resolver


def reference_new() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def reference_normalise(value: str) -> str:
    return "".join(ch for ch in str(value or "").upper() if ch in REFERENCE_ALPHABET)[:40]


def held_document(reference: str) -> HeldDocument | None:
    """The document the active agency holds under ``reference``, or None."""
    ref = reference_normalise(reference)
    if len(ref) != REFERENCE_LENGTH:
        return None
    for resolver in RESOLVERS:
        found = resolver(ref)
        if found is not None:
            return found
    return None


def reference_path(reference: str) -> str:
    """The path of the verification page of one reference, on the agency's own host (the
    agency portal's URLs, whichever host's request or task asks)."""
    return reverse("verification-reference", args=[reference], urlconf=settings.ROOT_URLCONF)
