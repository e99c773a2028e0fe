"""An RFC 3161 timestamp authority on loopback, in a thread, for the signature tests.

It speaks the real protocol (``application/timestamp-query`` in, ``application/timestamp-reply``
out, over HTTP) and signs tokens with a timestamping certificate of the test CA, through
pyHanko's own test timestamper. ``requests`` counts the queries; ``fail`` makes it answer 500.

It answers like a real TSA in time too: HTTP/1.1 with kept-alive connections, and the signing
key decoded once (pyHanko's DummyTimeStamper decodes and checks its RSA key for every token,
about 40 ms; with a connection per query that made the fake the slowest part of a signature).
"""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from asn1crypto import cms, core, tsp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.sign import general, signers
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko_certvalidator.util import get_pyca_cryptography_hash


class _LoadedKeyStamper(DummyTimeStamper):
    """DummyTimeStamper with its RSA key decoded once."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        key = serialization.load_der_private_key(self.tsa_key.dump(), None)
        assert isinstance(key, RSAPrivateKey)
        self._key = key

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: dt.datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        # pyHanko's own signed attributes (dummy_client.DummyTimeStamper), with the decoded key.
        md = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        md.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                simple_cms_attribute(
                    "signing_certificate", general.as_signing_certificate(self.tsa_cert)
                ),
                simple_cms_attribute("message_digest", md.finalize()),
            ]
        )
        signature = self._key.sign(
            signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(md_algorithm.upper())
        )
        return signature, signed_attrs


class TimestampServer:
    def __init__(self, p12: Path, password: bytes, *, fixed: dt.datetime | None = None) -> None:
        tsa = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=password)
        assert tsa is not None and tsa.signing_cert is not None
        self.stamper = _LoadedKeyStamper(
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
            protocol_version = "HTTP/1.1"  # kept-alive connections, as a real TSA

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests += 1
                if fake.fail or self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_response(500 if fake.fail else 415)
                    self.send_header("Content-Length", "0")
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
