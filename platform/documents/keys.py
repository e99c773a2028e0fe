"""Where signing keys live, and a local certificate authority for development and tests.

Keys never sit in the database or the repository: each is a PKCS#12 file under
``SIGNING_KEY_ROOT`` (default ``var/signing/``), protected by ``SIGNING_P12_PASSWORD``, one
folder per agency so that no agency's key material is readable through another's paths::

    <root>/ca/ca.pem                       the trusted roots (SIGNING_TRUST_ROOTS adds more)
    <root>/ca/ca-key.pem, tsa.p12          the development CA's key and its timestamp unit
    <root>/agencies/<schema>/organisation.p12          the agency's organisation certificate
    <root>/agencies/<schema>/people/<user id>.p12      a leader's personal certificate
    <root>/agencies/<schema>/retired/<name>-<serial>.p12   rotated out, kept for the record

Rotating a certificate writes a new file in place and moves the old one to ``retired/``: what
was signed before carries its own certificate and timestamp, so it stays verifiable. In
production the same names point at a PKCS#11 token or a remote-signing service instead
(``documents.signing.Signer``); this module is then only used for the trusted roots.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

ORGANISATION = "organisation"


def key_root() -> Path:
    return Path(settings.SIGNING_KEY_ROOT)


def passphrase() -> bytes:
    return str(settings.SIGNING_P12_PASSWORD).encode()


def agency_dir(schema: str) -> Path:
    if not schema or "/" in schema or schema.startswith("."):
        raise ValueError("bad schema name")
    return key_root() / "agencies" / schema


def organisation_path(schema: str) -> Path:
    return agency_dir(schema) / f"{ORGANISATION}.p12"


def person_path(schema: str, user_id: int) -> Path:
    return agency_dir(schema) / "people" / f"{int(user_id)}.p12"


def ca_dir() -> Path:
    return key_root() / "ca"


def trust_root_paths() -> list[Path]:
    extra = [Path(p) for p in getattr(settings, "SIGNING_TRUST_ROOTS", []) if p]
    own = ca_dir() / "ca.pem"
    return [*extra, *([own] if own.exists() else [])]


def trust_roots() -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for path in trust_root_paths():
        out += x509.load_pem_x509_certificates(path.read_bytes())
    return out


# -- the development CA ---------------------------------------------------------------------


@dataclass(frozen=True)
class Authority:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate


def _name(common: str, org: str = "", *, unit: str = "") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common))
    return x509.Name(attrs)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def _key_usage(*, ca: bool = False, sign: bool = True) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign and not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def authority_create(
    directory: Path, *, name: str = "MotCua Cloud development CA", now: dt.datetime | None = None
) -> Authority:
    """A self-signed root (ten years), written as ``ca.pem`` and ``ca-key.pem``."""
    now = now or dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = _name(name, "MotCua Cloud (development only)")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    (directory / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_private(
        directory / "ca-key.pem",
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase()),
        ),
    )
    return Authority(key=key, certificate=cert)


def authority_load(directory: Path) -> Authority | None:
    cert_path, key_path = directory / "ca.pem", directory / "ca-key.pem"
    if not cert_path.exists() or not key_path.exists():
        return None
    key = serialization.load_pem_private_key(key_path.read_bytes(), passphrase())
    assert isinstance(key, rsa.RSAPrivateKey)
    return Authority(key=key, certificate=x509.load_pem_x509_certificate(cert_path.read_bytes()))


def certificate_issue(
    authority: Authority,
    path: Path,
    *,
    common_name: str,
    organisation: str = "",
    unit: str = "",
    email: str = "",
    timestamping: bool = False,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> x509.Certificate:
    """Issue a signing certificate and write it with its key and the CA as PKCS#12.

    An existing file at ``path`` is rotated out to ``retired/`` first.
    """
    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organisation, unit=unit))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(minutes=5))
        .not_valid_after(not_after or now + dt.timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if timestamping:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    elif email and email.isascii():
        # An address with a non-ASCII local part cannot be an RFC822Name (RFC 8398 would need
        # an SmtpUTF8Mailbox): the certificate then names the person without it.
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
    cert = builder.sign(authority.key, hashes.SHA256())
    if path.exists():
        certificate_retire(path)
    _write_private(
        path,
        pkcs12.serialize_key_and_certificates(
            name=common_name.encode(),
            key=key,
            cert=cert,
            cas=[authority.certificate],
            encryption_algorithm=serialization.BestAvailableEncryption(passphrase()),
        ),
    )
    return cert


def certificate_retire(path: Path) -> Path:
    """Move a certificate out of use; returns where it was kept."""
    _key, cert, _chain = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase())
    serial = f"{cert.serial_number:x}" if cert else "unknown"
    retired = (
        path.parent.parent / "retired" if path.parent.name == "people" else path.parent / "retired"
    )
    retired.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = retired / f"{path.stem}-{serial}.p12"
    shutil.move(str(path), target)
    return target


# -- A development set: the CA, its timestamp unit, each agency's and each leader's files -----


@dataclass(frozen=True)
class DevIssued:
    path: Path
    common_name: str
    serial: str


def dev_ca_ensure() -> Authority:
    """The development CA under ``ca_dir()``, created (with its timestamp unit) if missing."""
    authority = authority_load(ca_dir())
    if authority is None:
        authority = authority_create(ca_dir())
    tsa = ca_dir() / "tsa.p12"
    if not tsa.exists():
        certificate_issue(
            authority, tsa, common_name="MotCua Cloud development TSA", timestamping=True
        )
    return authority


def dev_issue_organisation(
    authority: Authority, schema: str, name: str, *, rotate: bool = False
) -> DevIssued | None:
    """The agency's organisation certificate (None: it has one and ``rotate`` is off)."""
    path = organisation_path(schema)
    if path.exists() and not rotate:
        return None
    cert = certificate_issue(authority, path, common_name=name, organisation=name)
    return DevIssued(path, name, f"{cert.serial_number:x}")


def dev_issue_person(
    authority: Authority,
    schema: str,
    user_id: int,
    *,
    name: str,
    organisation: str,
    email: str = "",
    rotate: bool = False,
) -> DevIssued | None:
    """A leader's personal certificate in this agency (None: exists and ``rotate`` is off)."""
    path = person_path(schema, user_id)
    if path.exists() and not rotate:
        return None
    cert = certificate_issue(
        authority, path, common_name=name, organisation=organisation, email=email
    )
    return DevIssued(path, name, f"{cert.serial_number:x}")
