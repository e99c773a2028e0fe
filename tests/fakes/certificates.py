"""A throwaway certificate authority and a signing certificate for the e-invoice tests.

``signing_identity(tmp_path)`` writes the CA (PEM, what the fake e-invoice provider trusts) and
the provider's key and certificate as a PKCS#12 file with a password, as a real certificate
authority (VNPT-CA, Viettel-CA, ...) would issue them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class SigningIdentity:
    ca_pem_path: Path
    p12_path: Path
    password: str
    certificate: x509.Certificate


def _name(common: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def signing_identity(
    directory: Path,
    *,
    password: str = "mat-khau-chung-thu",
    now: dt.datetime | None = None,
    seller_name: str = "Công ty Cổ phần Dịch vụ MotCua Cloud",
    tax_code: str = "0109999999",
) -> SigningIdentity:
    now = now or dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("Test CA for e-invoices", "Throwaway test CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=30))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, seller_name),
            x509.NameAttribute(NameOID.COMMON_NAME, seller_name),
            x509.NameAttribute(NameOID.USER_ID, f"MST:{tax_code}"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    ca_path = directory / "test-ca.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    p12_path = directory / "provider-signing.p12"
    p12_path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            name=b"motcua-einvoice",
            key=key,
            cert=certificate,
            cas=[ca],
            encryption_algorithm=serialization.BestAvailableEncryption(password.encode()),
        )
    )
    return SigningIdentity(
        ca_pem_path=ca_path, p12_path=p12_path, password=password, certificate=certificate
    )
