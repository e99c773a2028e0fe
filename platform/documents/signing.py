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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from asn1crypto import x509 as asn1_x509
from django.conf import settings
from pyhanko.pdf_utils import embed, generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

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


@dataclass
class Pkcs12Signer:
    """A key and certificate in a PKCS#12 file (development and small installations)."""

    path: Path
    password: bytes

    def __post_init__(self) -> None:
        if not self.path.exists():
            raise SigningError(f"no signing certificate at {self.path.name}")
        try:
            signer = signers.SimpleSigner.load_pkcs12(str(self.path), passphrase=self.password)
        except Exception as exc:  # pyHanko raises several kinds for a wrong file or password
            raise SigningError(f"the signing certificate cannot be opened: {exc}") from None
        if signer is None or signer.signing_cert is None:
            raise SigningError("the signing certificate cannot be opened")
        self._signer = signer

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


def organisation_signer(schema: str) -> Signer:
    """The agency's organisation certificate (signs receipts, forms and results)."""
    return Pkcs12Signer(keys.organisation_path(schema), keys.passphrase())


def person_signer(schema: str, user_id: int) -> Signer:
    """A leader's own certificate, issued for their work in this agency."""
    try:
        return Pkcs12Signer(keys.person_path(schema, user_id), keys.passphrase())
    except SigningError:
        raise SigningError("you have no signing certificate in this agency") from None


def timestamper() -> TimeStamper | None:
    url = str(getattr(settings, "SIGNING_TSA_URL", "") or "")
    return RequestsHTTPTimeStamper(url, timeout=10) if url else None


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
