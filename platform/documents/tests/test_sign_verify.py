"""PDFs in Vietnamese, PAdES signatures with a loopback RFC 3161 timestamp, and verification of
good and bad input (one changed byte, unknown CA, expired certificate, non-PDF)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from documents import keys, sheets, signing, verify
from documents.pdf import Sheet, Signature, register_pdf, sheet_pdf
from tests.fakes.tsa_server import TimestampServer

SCHEMA = "xa_an_binh"
_TSA: list[TimestampServer] = []  # the running fake, for the tests that count its queries


@pytest.fixture
def pki(tmp_path: Path) -> Iterator[keys.Authority]:
    with override_settings(SIGNING_KEY_ROOT=tmp_path, SIGNING_TRUST_ROOTS=[]):
        ca = keys.authority_create(keys.ca_dir())
        keys.certificate_issue(ca, keys.ca_dir() / "tsa.p12", common_name="TSA", timestamping=True)
        keys.certificate_issue(
            ca,
            keys.organisation_path(SCHEMA),
            common_name="UBND Xã An Bình",
            organisation="UBND Xã An Bình",
        )
        keys.certificate_issue(
            ca,
            keys.person_path(SCHEMA, 7),
            common_name="Lãnh Đạo Ứng",
            organisation="UBND Xã An Bình",
            email="ld@example.vn",
        )
        tsa = TimestampServer(keys.ca_dir() / "tsa.p12", keys.passphrase())
        tsa.start()
        _TSA[:] = [tsa]
        with override_settings(SIGNING_TSA_URL=tsa.url):
            yield ca
        tsa.stop()


def _pdf() -> bytes:
    out = io.BytesIO()
    sheet = Sheet(
        agency="Xã An Bình",
        title="KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
        facts=[("Người nộp", "Nguyễn Thị Hồng Nhung")],
        blocks=["Hộ kinh doanh Tạp hoá Minh An được cấp giấy chứng nhận. " * 40],
        signature=Signature(title="Chủ tịch", name="Lãnh Đạo Ứng"),
        qr=[("https://xa-an-binh.localhost/xac-thuc/ABCDEFGHJKLMNPQRSTUV/", "Quét để xác thực")],
    )
    sheet_pdf(sheet, out, texts=sheets.texts())
    return out.getvalue()


def test_pdf_embeds_the_vietnamese_font() -> None:
    data = _pdf()
    assert data.startswith(b"%PDF-")
    assert b"/FontFile2" in data and b"DejaVuSerif" in data  # embedded TrueType subset


def test_signed_by_leader_then_organisation_verifies(pki: keys.Authority) -> None:
    s1 = signing.pdf_sign(
        _pdf(),
        signing.person_signer(SCHEMA, 7),
        field_name="Leader",
        attachments=(signing.Attachment("gcn.pdf", b"%PDF-1.4 x", "application/pdf"),),
    )
    s2 = signing.pdf_sign(s1, signing.organisation_signer(SCHEMA), field_name="Organisation")
    result = verify.pdf_verify(s2)
    assert result.code == verify.VALID, result.message
    assert [c.signer for c in result.signatures] == ["Lãnh Đạo Ứng", "UBND Xã An Bình"]
    assert all(c.timestamped for c in result.signatures)
    assert result.signatures[0].email == "ld@example.vn"

    # One changed byte inside the signed range.
    at = s2.find(b"MotCua Cloud")
    assert at > 0
    assert verify.pdf_verify(s2[:at] + b"N" + s2[at + 1 :]).code == verify.CHANGED
    assert verify.pdf_verify(b"GIF89a not a pdf").code == verify.NOT_PDF
    assert verify.pdf_verify(_pdf()).code == verify.UNSIGNED
    assert verify.pdf_verify(s2[: len(s2) // 2]).code == verify.UNREADABLE


def test_rotation_keeps_old_signatures_valid(pki: keys.Authority) -> None:
    signed = signing.pdf_sign(_pdf(), signing.organisation_signer(SCHEMA), field_name="Org")
    keys.certificate_issue(pki, keys.organisation_path(SCHEMA), common_name="UBND Xã An Bình 2")
    assert list((keys.agency_dir(SCHEMA) / "retired").glob("organisation-*.p12"))
    assert verify.pdf_verify(signed).code == verify.VALID


def test_unknown_ca_and_expired_certificate(pki: keys.Authority, tmp_path: Path) -> None:
    stranger = keys.authority_create(tmp_path / "other-ca", name="Unknown CA")
    keys.certificate_issue(stranger, tmp_path / "x.p12", common_name="Kẻ Lạ")
    foreign = signing.pdf_sign(
        _pdf(), signing.Pkcs12Signer(tmp_path / "x.p12", keys.passphrase()), field_name="S"
    )
    assert verify.pdf_verify(foreign).code == verify.UNKNOWN_CA

    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    keys.certificate_issue(
        pki,
        tmp_path / "old.p12",
        common_name="Hết Hạn",
        not_before=past,
        not_after=past + dt.timedelta(days=30),
    )
    expired = signing.pdf_sign(
        _pdf(), signing.Pkcs12Signer(tmp_path / "old.p12", keys.passphrase()), field_name="S"
    )
    result = verify.pdf_verify(expired)
    assert result.code == verify.EXPIRED, result.message


def test_register_draws_every_row() -> None:
    rows = (
        (str(i), f"H-{i:05d}", "", "", "Đăng ký hộ kinh doanh", "Nguyễn Văn A", "", "", "", "", "")
        for i in range(300)
    )
    out = io.BytesIO()
    n = register_pdf(
        rows,
        out,
        agency="Xã An Bình",
        title="SỔ THEO DÕI HỒ SƠ",
        headers=sheets.register_headers(),
        widths_mm=sheets.REGISTER_WIDTHS,
        texts=sheets.texts(),
    )
    assert n == 300 and out.getvalue().startswith(b"%PDF-")


def test_signing_and_verifying_work_inside_a_running_event_loop(pki: keys.Authority) -> None:
    """An ASGI worker (or a browser test's process) has a loop running in its thread:
    pyHanko's own asyncio.run would fail there; both calls still answer."""
    import asyncio
    import threading

    async def inside() -> str:
        signed = signing.pdf_sign(_pdf(), signing.organisation_signer(SCHEMA), field_name="Org")
        return verify.pdf_verify(signed).code

    codes: list[str] = []  # a thread of its own: this one may already run a loop
    thread = threading.Thread(target=lambda: codes.append(asyncio.run(inside())))
    thread.start()
    thread.join()
    assert codes == [verify.VALID]


def test_a_loaded_key_is_kept_until_its_certificate_is_rotated(pki: keys.Authority) -> None:
    signing.signers_forget()
    first = signing.organisation_signer(SCHEMA)
    assert signing.organisation_signer(SCHEMA) is first  # loaded once per process
    old_serial = first.serial
    keys.certificate_issue(pki, keys.organisation_path(SCHEMA), common_name="UBND Xã An Bình 2")
    rotated = signing.organisation_signer(SCHEMA)
    assert rotated is not first and rotated.serial != old_serial
    signed = signing.pdf_sign(_pdf(), rotated, field_name="Org")
    assert verify.pdf_verify(signed).signatures[0].signer == "UBND Xã An Bình 2"
    # Another agency's key is another file: never the one just loaded.
    keys.certificate_issue(pki, keys.organisation_path("xa_khac"), common_name="UBND Xã Khác")
    assert signing.organisation_signer("xa_khac").subject == "UBND Xã Khác"
    assert signing.organisation_signer(SCHEMA).subject == "UBND Xã An Bình 2"


def test_one_timestamp_query_per_signature_once_warm(pki: keys.Authority) -> None:
    from django.conf import settings

    signing.pdf_sign(_pdf(), signing.organisation_signer(SCHEMA), field_name="Org")
    stamper = signing.timestamper()
    assert stamper is signing.timestamper()  # one per URL: its size estimate is kept
    server_url = settings.SIGNING_TSA_URL
    assert stamper is not None and getattr(stamper, "url", "") == server_url
    before = _tsa_requests()
    signing.pdf_sign(_pdf(), signing.organisation_signer(SCHEMA), field_name="Org")
    assert _tsa_requests() - before == 1


def _tsa_requests() -> int:
    return _TSA[0].requests
