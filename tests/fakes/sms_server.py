"""A stateful fake SMS provider on loopback (the HTTP shape of notifications.contrib.http_sms).

``POST /v1/messages`` (``Authorization: Bearer <key>``, ``Idempotency-Key``, JSON
``{"to", "text", "sender"}``) → 201 ``{"id": "sms_…", "status": "accepted"}``; a repeated
Idempotency-Key answers the first message again without a second SMS. ``fail_next(n, status)``
makes the next ``n`` requests fail with ``status`` (a provider outage); ``messages`` is what
was accepted. ``GET /v1/messages`` lists them (for a worker in another process).
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

from tests.fakes.base import JsonFakeServer


class FakeSms(JsonFakeServer):
    def __init__(self, *, api_key: str, port: int = 0) -> None:
        super().__init__(port=port)
        self.api_key = api_key
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.messages: list[dict[str, Any]] = []
            self.requests = 0
            self._by_key: dict[str, dict[str, Any]] = {}
            self._failures: list[int] = []
            self._ids = itertools.count(1)

    def fail_next(self, count: int = 1, *, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        with self._lock:
            self.requests += 1
            if headers.get("Authorization") != f"Bearer {self.api_key}":
                return 401, {"error": "invalid api key"}
            if method == "GET" and path == "/v1/messages":
                return 200, {"data": list(self.messages)}
            if method != "POST" or path != "/v1/messages":
                return 404, {"error": "not found"}
            if self._failures:
                return self._failures.pop(0), {"error": "provider unavailable"}
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                return 400, {"error": "invalid JSON"}
            to, text = str(payload.get("to", "")), str(payload.get("text", ""))
            if not to.lstrip("+").isdigit() or not text:
                return 422, {"error": "invalid recipient or empty text"}
            key = headers.get("Idempotency-Key") or ""
            if key and key in self._by_key:
                return 200, self._by_key[key]
            message = {
                "id": f"sms_{next(self._ids):06d}",
                "status": "accepted",
                "to": to,
                "text": text,
                "sender": payload.get("sender", ""),
                "idempotency_key": key,
            }
            self.messages.append(message)
            if key:
                self._by_key[key] = message
            return 201, message
