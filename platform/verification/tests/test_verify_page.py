"""The public verification page (/xac-thuc/): a good signature, and every kind of bad input
named exactly (one changed byte, unknown CA, expired certificate, not a PDF, empty, too
large, no file), never a 500; uploads limited per client; the QR reference page."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from documents import keys, signing

HOST = "xa-an-binh.localhost"
_addresses = itertools.count(10)


def visitor(host: str = HOST) -> Client:
    # A fresh address per client: the upload limit counts per address, platform-wide.
    return Client(HTTP_HOST=host, REMOTE_ADDR=f"198.51.100.{next(_addresses) % 250}")


def upload(client: Client, data: bytes, name: str = "ket-qua.pdf", path: str = "/xac-thuc/") -> Any:
    return client.post(path, {"file": SimpleUploadedFile(name, data, "application/pdf")})


def code_of(response: Any) -> str:
    text = response.content.decode()
    marker = 'data-code="'
    at = text.find(marker)
    return text[at + len(marker) : text.find('"', at + len(marker))] if at >= 0 else ""


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_the_page_shows_the_form(commune: Any) -> None:
    page = visitor().get("/xac-thuc/")
    assert page.status_code == 200
    assert "Verify a signed document" in page.text and 'name="file"' in page.text


def test_a_signed_document_is_valid_with_signer_and_time(signed_pdf: Any) -> None:
    page = upload(visitor(), signed_pdf())
    assert page.status_code == 200 and code_of(page) == "valid", page.text
    assert "The signature is valid" in page.text
    assert "UBND Xã An Bình" in page.text  # who signed
    assert "trusted timestamp" in page.text  # when, by the timestamp server
    assert "MotCua Cloud development CA" in page.text  # the issuer the chain ends at


def test_one_changed_byte_says_the_document_was_changed(signed_pdf: Any) -> None:
    data = signed_pdf()
    at = data.find(b"MotCua Cloud")
    assert at > 0
    page = upload(visitor(), data[:at] + b"N" + data[at + 1 :])
    assert page.status_code == 400 and code_of(page) == "changed"
    assert "changed after it was signed" in page.text


def test_a_certificate_of_an_unknown_ca(pki: Any, plain_pdf: Any, tmp_path: Path) -> None:
    stranger = keys.authority_create(tmp_path / "other-ca", name="Unknown CA")
    keys.certificate_issue(stranger, tmp_path / "x.p12", common_name="Kẻ Lạ")
    data = signing.pdf_sign(
        plain_pdf(), signing.Pkcs12Signer(tmp_path / "x.p12", keys.passphrase()), field_name="S"
    )
    page = upload(visitor(), data)
    assert page.status_code == 400 and code_of(page) == "unknown_ca"
    assert "no trusted certification authority" in page.text and "Kẻ Lạ" in page.text


def test_an_expired_certificate(pki: Any, plain_pdf: Any, tmp_path: Path) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    keys.certificate_issue(
        pki.ca,
        tmp_path / "old.p12",
        common_name="Hết Hạn",
        not_before=past,
        not_after=past + dt.timedelta(days=30),
    )
    data = signing.pdf_sign(
        plain_pdf(), signing.Pkcs12Signer(tmp_path / "old.p12", keys.passphrase()), field_name="S"
    )
    page = upload(visitor(), data)
    assert page.status_code == 400 and code_of(page) == "expired"
    assert "had already expired when the document was signed" in page.text


def test_a_certificate_expired_since_still_verifies_what_it_signed_while_valid(
    pki: Any, plain_pdf: Any, tmp_path: Path
) -> None:
    """Signed (with a trusted timestamp) a moment before the certificate expired, checked
    after: valid, because the certificate was valid then (issue 15, "valid then")."""
    import time

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    keys.certificate_issue(
        pki.ca,
        tmp_path / "short.p12",
        common_name="Sắp Hết Hạn",
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(seconds=4),
    )
    data = signing.pdf_sign(
        plain_pdf(), signing.Pkcs12Signer(tmp_path / "short.p12", keys.passphrase()), field_name="S"
    )
    time.sleep(max(0.0, (now + dt.timedelta(seconds=5) - dt.datetime.now(dt.UTC)).total_seconds()))
    assert dt.datetime.now(dt.UTC) > now + dt.timedelta(seconds=4)  # expired by now
    page = upload(visitor(), data)
    assert page.status_code == 200 and code_of(page) == "valid", page.text
    assert "Sắp Hết Hạn" in page.text and "trusted timestamp" in page.text


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"GIF89a\x01\x00 not a pdf at all", "not_pdf", "is not a PDF document"),
        (b"", "empty", "The file is empty"),
        (b"%PDF-1.7\n1 0 obj<</Type/Cat", "unreadable", "damaged and cannot be read"),
    ],
)
def test_bad_files_are_named(commune: Any, data: bytes, code: str, words: str) -> None:
    page = upload(visitor(), data)
    assert page.status_code == 400 and code_of(page) == code and words in page.text


def test_an_unsigned_pdf(plain_pdf: Any, commune: Any) -> None:
    page = upload(visitor(), plain_pdf())
    assert code_of(page) == "unsigned" and "carries no digital signature" in page.text


def test_no_file_chosen(commune: Any) -> None:
    page = visitor().post("/xac-thuc/", {})
    assert page.status_code == 400 and code_of(page) == "no_file"
    assert "Choose the PDF file to verify." in page.text


@override_settings(VERIFICATION_MAX_BYTES=4096)
def test_a_huge_file_is_refused_before_it_is_read(signed_pdf: Any) -> None:
    page = upload(visitor(), b"%PDF-1.7\n" + b"0" * 10_000)
    assert page.status_code == 400 and code_of(page) == "too_large"
    assert "at most 4.0\xa0KB can be verified here" in page.text


@override_settings(VERIFICATION_UPLOADS_PER_WINDOW=2)
def test_uploads_are_limited_per_client(commune: Any) -> None:
    client, other = visitor(), visitor()
    for _n in range(2):
        assert upload(client, b"not a pdf").status_code == 400
    refused = upload(client, b"not a pdf")
    assert refused.status_code == 429 and code_of(refused) == "rate_limited"
    assert "Too many files verified" in refused.text
    # Another host of the platform is no fresh budget; another client is not refused.
    assert upload(other, b"not a pdf").status_code == 400


def test_an_unknown_reference(commune: Any, make_agency: Any) -> None:
    page = visitor().get("/xac-thuc/ABCDEFGHJKLMNPQRSTUV/")
    assert (
        page.status_code == 404 and "No document of this agency carries this reference" in page.text
    )
    assert visitor().get("/xac-thuc/short/").status_code == 404
