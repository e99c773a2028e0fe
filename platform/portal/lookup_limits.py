"""Limits on guessing lookup secrets (public dossier tracking): the guesser is refused, the
holder of the right secret never is.

Dossier codes are sequential, so anybody can name one; the 8-character secret on the
receipt (32 symbols, 40 bits) is what opens it. Only wrong answers count, and only
against the client that gave them (platform-wide: another agency's host is no fresh
budget), in three ways per window:

- wrong answers from the client, over all codes;
- wrong answers from the client for one code;
- codes the client got wrong at least once (sequential codes invite probing one guess
  each): past it, the client may only go on with the codes it already tried.

A client past any limit is refused whatever it sends, the right secret included: if the
right secret were still answered, a 200 among the 429s would tell the guesser when they
hit it, and the limit would slow nothing. No counter is kept per code alone: whatever it
refused, it would refuse the holder too (ten wrong guesses by anybody used to lock a
citizen out of their dossier); what it allowed, it would not slow. Successful lookups
never count, so a one-stop desk kiosk looking up many dossiers is never throttled.

The counters are read in the same cache round trip as a cached page (``counter_keys``),
so a repeated lookup by QR code stays one round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from core.ratelimit import RateDecision, client_bucket, rate_decision, rate_hit, rate_key
from tenants.db import connection

WINDOW = 600
WRONG_PER_CLIENT = 20
WRONG_PER_CLIENT_AND_CODE = 5
CODES_PER_CLIENT = 10


@dataclass(frozen=True)
class Counter:
    scope: str
    key: str
    limit: int

    @property
    def cache_key(self) -> str:
        return rate_key(scope=self.scope, key=self.key, window=WINDOW)


@dataclass(frozen=True)
class LookupCounters:
    """A client's guess counters for one code (in the ``platform`` cache)."""

    wrong: Counter
    codes: Counter
    wrong_for_code: Counter

    @classmethod
    def of(cls, request: HttpRequest, code: str) -> LookupCounters:
        client = client_bucket(request)
        return cls(
            wrong=Counter("tracking-wrong", client, WRONG_PER_CLIENT),
            codes=Counter("tracking-codes", client, CODES_PER_CLIENT),
            wrong_for_code=Counter(
                f"tracking-wrong-code:{connection.schema_name}",
                f"{client}|{code}",
                WRONG_PER_CLIENT_AND_CODE,
            ),
        )

    @property
    def all(self) -> tuple[Counter, Counter, Counter]:
        return (self.wrong, self.codes, self.wrong_for_code)

    def counter_keys(self) -> list[str]:
        return [counter.cache_key for counter in self.all]

    def refusal(self, found: Mapping[str, Any]) -> RateDecision | None:
        """The first limit the client is past (``found``: the counters read), or None. The
        limit on codes holds a client to the codes it has already got wrong."""
        counts = {c.cache_key: int(found.get(c.cache_key) or 0) for c in self.all}
        checked = [self.wrong, self.wrong_for_code]
        if not counts[self.wrong_for_code.cache_key]:
            checked.append(self.codes)
        for counter in checked:
            decision = rate_decision(
                count=counts[counter.cache_key], limit=counter.limit, window=WINDOW
            )
            if not decision.allowed:
                return decision
        return None

    def count_wrong_answer(self) -> None:
        rate_hit(scope=self.wrong.scope, key=self.wrong.key, limit=self.wrong.limit, window=WINDOW)
        for_code = rate_hit(
            scope=self.wrong_for_code.scope,
            key=self.wrong_for_code.key,
            limit=self.wrong_for_code.limit,
            window=WINDOW,
        )
        if for_code.count == 1:  # the first wrong answer for this code
            rate_hit(
                scope=self.codes.scope, key=self.codes.key, limit=self.codes.limit, window=WINDOW
            )
