"""A stateful fake national portal on loopback (the HTTP shape nationalsync talks to).

``POST /v1/status-events`` (``Authorization: Bearer <token>``, ``Idempotency-Key``, JSON
status change) → 201 ``{"status": "acknowledged", "receipt": "np_…"}``; a repeated key
answers the first receipt again and stores nothing new. ``fail_next(n, status)`` makes the
next ``n`` posts fail (an outage); ``forget(key)`` drops a stored change (the portal lost
it: reconciliation reports it missing). ``GET /v1/status-events`` → ``{"keys": [...]}``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.fakes.base import JsonFakeServer

PATH = "/v1/status-events"


class FakeNationalPortal(JsonFakeServer):
    def __init__(self, *, token: str, port: int = 0) -> None:
        super().__init__(port=port)
        self.token = token
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.events: dict[str, dict[str, Any]] = {}
            self.posts = 0
            self._failures: list[int] = []
            self._ids = itertools.count(1)

    def fail_next(self, count: int = 1, *, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def forget(self, key: str) -> None:
        with self._lock:
            self.events.pop(key, None)

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        with self._lock:
            if headers.get("Authorization") != f"Bearer {self.token}":
                return 401, {"error": "invalid token"}
            if path != PATH:
                return 404, {"error": "not found"}
            if method == "GET":
                return 200, {"keys": sorted(self.events)}
            self.posts += 1
            if self._failures:
                return self._failures.pop(0), {"error": "portal unavailable"}
            key = headers.get("Idempotency-Key") or ""
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                return 400, {"error": "invalid JSON"}
            if not key or not payload.get("dossier") or not payload.get("to_status"):
                return 422, {"error": "missing key, dossier or status"}
            if key in self.events:
                return 200, self.events[key]["ack"]
            ack = {"status": "acknowledged", "receipt": f"np_{next(self._ids):06d}"}
            self.events[key] = {"payload": payload, "ack": ack}
            return 201, ack
