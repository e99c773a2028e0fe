"""PAdES signatures (pyHanko) behind a small signing interface.

A :class:`Signer` is whatever can produce a CMS signature for a PDF: in development and
tests a PKCS#12 file (:class:`Pkcs12Signer`, keys from ``documents.keys``); in production a
PKCS#11 token / HSM (pyHanko's ``PKCS11Signer``) or a remote-signing service, wrapped the same
way. :func:`pdf_sign` applies one signature as an incremental update, so a second signature
(the organisation's after the leader's) keeps the first one valid, and asks the timestamp
server (``SIGNING_TSA_URL``, RFC 3161) for a trusted time so the signature can still be
checked after the certificate expires or is rotated.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import requests
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from django.conf import settings
from pyhanko.pdf_utils import embed, generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from documents import keys


class SigningError(Exception):
    """No usable key material, or the signature could not be made; the message says which."""


class Signer(Protocol):
    """One signing identity: its display name and pyHanko's signer for it."""

    @property
    def subject(self) -> str: ...

    @property
    def serial(self) -> str: ...

    def pyhanko_signer(self) -> signers.Signer: ...


class LoadedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, with the private key decoded once.

    SimpleSigner turns its DER key into a usable key on every signature (and pyHanko signs
    twice per document: a dry run to size the signature, then the real one); an RSA key's
    consistency check makes that tens of milliseconds each time.
    """

    def __init__(self, base: signers.SimpleSigner) -> None:
        super().__init__(
            signing_cert=base.signing_cert,
            signing_key=base.signing_key,
            cert_registry=base.cert_registry,
        )
        # Already checked once by the PKCS#12 load (cryptography validates an RSA key there):
        # decoding it again with the check doubled the first signature's time.
        self._key: Any = serialization.load_der_private_key(
            base.signing_key.dump(), None, unsafe_skip_rsa_key_validation=True
        )

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if isinstance(self._key, RSAPrivateKey) and mechanism.signature_algo == "rsassa_pkcs1v15":
            return bytes(
                self._key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
            )
        return bytes(super().sign_raw(data, digest_algorithm))


@dataclass
class Pkcs12Signer:
    """A key and certificate in a PKCS#12 file (development and small installations)."""

    path: Path
    password: bytes
    _signer: signers.SimpleSigner = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.path.exists():
            raise SigningError(f"no signing certificate at {self.path.name}")
        try:
            signer = signers.SimpleSigner.load_pkcs12(str(self.path), passphrase=self.password)
        except Exception as exc:  # pyHanko raises several kinds for a wrong file or password
            raise SigningError(f"the signing certificate cannot be opened: {exc}") from None
        if signer is None or signer.signing_cert is None:
            raise SigningError("the signing certificate cannot be opened")
        self._signer = LoadedKeySigner(signer)

    @property
    def certificate(self) -> asn1_x509.Certificate:
        cert = self._signer.signing_cert
        assert cert is not None
        return cert

    @property
    def subject(self) -> str:
        return str(self.certificate.subject.native.get("common_name", ""))

    @property
    def serial(self) -> str:
        return f"{self.certificate.serial_number:x}"

    def pyhanko_signer(self) -> signers.Signer:
        return self._signer


# -- Loaded keys, kept per process ----------------------------------------------------------
#
# Opening a PKCS#12 file (its password's key derivation, then the RSA key check) costs more
# than the signature itself. A loaded signer is kept per file, keyed by the file's identity
# (path, inode, size, modification time): rotating a certificate writes a new file (a new
# inode, see keys._write_private) and moves the old one away, so the next signature of any
# worker loads the new key without being told. The key of one agency is only ever found
# under that agency's path (keys.organisation_path / person_path take the schema).

_CACHE_SIZE = 64
_cache: OrderedDict[tuple[str, int, int, int, bytes], Pkcs12Signer] = OrderedDict()
_cache_lock = threading.Lock()


def pkcs12_signer(path: Path, password: bytes) -> Pkcs12Signer:
    """The signer of the PKCS#12 file at ``path``, loaded once while the file stays the same."""
    try:
        st = path.stat()
    except OSError:
        raise SigningError(f"no signing certificate at {path.name}") from None
    key = (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, password)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    loaded = Pkcs12Signer(path, password)
    with _cache_lock:
        stale = [k for k in _cache if k[0] == key[0]]
        for k in stale:  # the file was rotated: forget its old key
            del _cache[k]
        _cache[key] = loaded
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return loaded


def signers_forget() -> None:
    """Drop every loaded key of this process (tests, benchmarks)."""
    with _cache_lock:
        _cache.clear()


def organisation_signer(schema: str) -> Signer:
    """The agency's organisation certificate (signs receipts, forms and results)."""
    return pkcs12_signer(keys.organisation_path(schema), keys.passphrase())


def person_signer(schema: str, user_id: int) -> Signer:
    """A leader's own certificate, issued for their work in this agency."""
    try:
        return pkcs12_signer(keys.person_path(schema, user_id), keys.passphrase())
    except SigningError:
        raise SigningError("you have no signing certificate in this agency") from None


class SessionTimeStamper(RequestsHTTPTimeStamper):
    """RFC 3161 over HTTP with a kept-alive connection per thread.

    One instance per URL lives for the process: pyHanko keeps the timestamp it asks for to
    size the signature (``dummy_response``) on the instance, so a fresh instance per document
    meant two round trips to the timestamp server per signature, each on a new connection.
    """

    def __init__(self, url: str, timeout: int = 10) -> None:
        super().__init__(url, timeout=timeout)
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        def task() -> tsp.TimeStampResp:
            try:
                res = self._session().post(
                    self.url, req.dump(), headers=self.request_headers(), timeout=self.timeout
                )
            except OSError as exc:
                raise TimestampRequestError("Error in communication with timestamp server") from exc
            if res.headers.get("Content-Type") != "application/timestamp-reply":
                raise TimestampRequestError("Timestamp server response is malformed.", res)
            return tsp.TimeStampResp.load(res.content)

        return await asyncio.to_thread(task)


_stampers: dict[str, SessionTimeStamper] = {}


def timestamper() -> TimeStamper | None:
    url = str(getattr(settings, "SIGNING_TSA_URL", "") or "")
    if not url:
        return None
    with _cache_lock:
        stamper = _stampers.get(url)
        if stamper is None:
            stamper = _stampers[url] = SessionTimeStamper(url, timeout=10)
    return stamper


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes
    mime_type: str
    description: str = ""


T = TypeVar("T")


def outside_event_loop(call: Callable[[], T]) -> T:
    """Run ``call`` where no asyncio loop runs: pyHanko's synchronous API drives its own loop
    (``asyncio.run``), which fails inside a running one (an ASGI worker, a browser test's
    process); there it runs in a short-lived thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def pdf_sign(
    data: bytes,
    signer: Signer,
    *,
    field_name: str,
    reason: str = "",
    location: str = "",
    attachments: tuple[Attachment, ...] = (),
) -> bytes:
    """Sign ``data`` (a PDF) with ``signer``; returns the signed PDF (an incremental update).

    Attachments are embedded in the same update, before the signature, so it covers them.
    """
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        for item in attachments:
            spec = embed.FileSpec(
                file_spec_string=item.name,
                file_name=item.name,
                embedded_data=embed.EmbeddedFileObject.from_file_data(
                    writer, data=item.data, mime_type=item.mime_type
                ),
                description=item.description or item.name,
                af_relationship=generic.NameObject("/Source"),
            )
            embed.embed_file(writer, spec)
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            reason=reason or None,
            location=location or None,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
        )
        out = io.BytesIO()
        pdf_signer = signers.PdfSigner(
            meta, signer=signer.pyhanko_signer(), timestamper=timestamper()
        )
        outside_event_loop(lambda: pdf_signer.sign_pdf(writer, output=out))
    except SigningError:
        raise
    except Exception as exc:
        raise SigningError(f"the document could not be signed: {exc}") from exc
    return out.getvalue()
