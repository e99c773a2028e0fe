"""The seller's digital signature on an e-invoice: XMLDSig, enveloped, RSA-SHA256 (signxml).

The key and certificate come from a PKCS#12 file whose path and password are in the settings
(``EINVOICE_SIGNING_P12``, ``EINVOICE_SIGNING_PASSWORD``, from the environment): never in the
database or the repository. The signature covers ``DLHDon`` (``URI="#data"``) and sits in
``DSCKS/NBan``, with the certificate in its ``KeyInfo`` for the verifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings
from lxml import etree
from signxml import methods
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier

from billing.einvoice.xml import DATA_ID

C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"


class SigningError(Exception):
    """The signing certificate is missing, unreadable or unusable."""


@dataclass(frozen=True)
class SigningCredentials:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def certificate_pem(self) -> list[str]:
        return [
            c.public_bytes(serialization.Encoding.PEM).decode()
            for c in (self.certificate, *self.chain)
        ]


def credentials_load(*, path: str = "", password: str | None = None) -> SigningCredentials:
    """The provider's key and certificate from its PKCS#12 file (settings by default)."""
    path = path or str(settings.EINVOICE_SIGNING_P12)
    secret = str(settings.EINVOICE_SIGNING_PASSWORD) if password is None else password
    if not path:
        raise SigningError("no signing certificate configured (EINVOICE_SIGNING_P12)")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningError(f"the signing certificate cannot be read: {exc.strerror}") from None
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(
            data, secret.encode() if secret else None
        )
    except ValueError:
        raise SigningError("the signing certificate file or its password is wrong") from None
    if not isinstance(key, rsa.RSAPrivateKey) or certificate is None:
        raise SigningError("the signing certificate must hold an RSA key and its certificate")
    return SigningCredentials(key=key, certificate=certificate, chain=tuple(chain))


def xml_sign(root: etree._Element, credentials: SigningCredentials) -> bytes:
    """Sign an ``HDon`` (with its ``ds:Signature Id="placeholder"``); the signed document."""
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=C14N,
    )
    signed = signer.sign(
        root,
        key=credentials.key,
        cert=credentials.certificate_pem,
        reference_uri=f"#{DATA_ID}",
    )
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def xml_verify(document: bytes, *, ca_pem_file: str) -> etree._Element:
    """Verify a signed e-invoice against a CA (a PEM file); the signed ``DLHDon`` (raises on
    any failure: a changed byte, another key, a certificate not issued by the CA)."""
    result = XMLVerifier().verify(
        document,
        ca_pem_file=ca_pem_file,
        expect_config=SignatureConfiguration(
            signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
            digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
        ),
    )
    signed = result.signed_xml  # type: ignore[union-attr]
    if signed is None or signed.tag != "DLHDon":
        raise ValueError("the signature does not cover the invoice data (DLHDon)")
    return signed
