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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeSms:
    def __init__(self, *, api_key: str, port: int = 0) -> None:
        self.api_key = api_key
        self.port = port
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, payload = fake.handle(
                    self.command, self.path, self.headers, self.rfile.read(length)
                )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
