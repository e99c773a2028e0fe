"""An RFC 3161 timestamp authority on loopback, in a thread, for the signature tests.

It speaks the real protocol (``application/timestamp-query`` in, ``application/timestamp-reply``
out, over HTTP) and signs tokens with a timestamping certificate of the test CA, through
pyHanko's own test timestamper. ``requests`` counts the queries; ``fail`` makes it answer 500.
"""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from asn1crypto import tsp
from pyhanko.sign import signers
from pyhanko.sign.timestamps import DummyTimeStamper


class TimestampServer:
    def __init__(self, p12: Path, password: bytes, *, fixed: dt.datetime | None = None) -> None:
        tsa = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=password)
        assert tsa is not None and tsa.signing_cert is not None
        self.stamper = DummyTimeStamper(
            tsa_cert=tsa.signing_cert,
            tsa_key=tsa.signing_key,
            certs_to_embed=tsa.cert_registry,
            fixed_dt=fixed,
        )
        self.requests = 0
        self.fail = False
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tsa"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests += 1
                if fake.fail or self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_response(500 if fake.fail else 415)
                    self.end_headers()
                    return
                reply = fake.stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
