"""A small JSON HTTP server on loopback, in a thread: the shell of our fake providers.

Subclasses keep their state and answer in ``handle(method, path, headers, body)`` with
``(status, json_payload)``; this class serves them over real HTTP. A fake that serves a page or a
file answers bytes from ``respond``, with its ``Content-Type`` among the headers.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonFakeServer:
    def __init__(self, *, port: int = 0) -> None:
        self.port = port
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        raise NotImplementedError

    def respond(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        """Status, extra response headers and the JSON payload (a fake that sends headers,
        such as redirects, overrides this instead of ``handle``)."""
        status, payload = self.handle(method, path, headers, body)
        return status, {}, payload

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, extra, payload = fake.respond(
                    self.command, self.path, self.headers, self.rfile.read(length)
                )
                # A payload given as bytes (an HTML page, a file) is sent as it is, with the
                # Content-Type the fake names in its headers.
                raw = isinstance(payload, bytes)
                data = payload if raw else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                if "Content-Type" not in extra:
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
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
