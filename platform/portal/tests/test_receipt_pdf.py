"""Form 01 as PDF: A4, Vietnamese text in an embedded font, the QR code; to the applicant and
the agency's staff only."""

from __future__ import annotations

from typing import Any

import pytest
import segno
from django.test import Client

from accounts.models import User
from desk.tests.conftest import SubmitShop, staff, staff_of, submit_shop
from tenants.context import agency_context
from tests.pdftext import embedded_fonts, links, objects, page_contents, page_texts

__all__ = ["staff", "submit_shop"]

HOST = "xa-an-binh.localhost"


def _client(user: Any) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_applicant_gets_form_01_as_a_pdf_with_embedded_vietnamese_font(
    commune, citizen, submit_shop: SubmitShop
) -> None:
    with agency_context(commune):
        dossier = submit_shop()
    receipt = _client(citizen).get(f"/ho-so/{dossier.code}/bien-nhan/")
    assert f"/ho-so/{dossier.code}/bien-nhan.pdf" in receipt.text  # linked from the HTML one
    response = _client(citizen).get(f"/ho-so/{dossier.code}/bien-nhan.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"bien-nhan-{dossier.code}.pdf" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF-")
    pages = [b for b in objects(body).values() if b"/Type /Page\n" in b or b"/Type /Page " in b]
    assert pages and all(b"/MediaBox [ 0 0 595.2756 841.8898 ]" in p for p in pages)  # A4
    assert sorted(f.split("+", 1)[1] for f in embedded_fonts(body)) == [
        "DejaVuSerif",
        "DejaVuSerif-Bold",
        "DejaVuSerif-Italic",
    ]
    text = page_texts(body)[0]
    for expected in (
        "XÃ AN BÌNH",
        "PHIẾU TIẾP NHẬN VÀ HẸN TRẢ KẾT QUẢ",
        "Mẫu số 01",
        dossier.code,
        dossier.lookup_secret,
        "Nguyễn Văn A",
        "S-KD-001",
        f"{dossier.due_date:%d/%m/%Y}",
        "Quét mã để tra cứu hồ sơ",
    ):
        assert expected in text, expected
    # The QR codes of the tracking address and of the receipt's verification page (issue 15):
    # one filled square per dark module of segno's matrix of each.
    url = f"http://{HOST}/tra-cuu/?ma={dossier.code}&bi-mat={dossier.lookup_secret}"
    verify = [u for u in links(body) if "/xac-thuc/" in u]
    assert len(verify) == 1 and verify[0].startswith(f"http://{HOST}/xac-thuc/"), links(body)
    dark = sum(sum(sum(row) for row in segno.make(u, error="m").matrix) for u in (url, *verify))
    assert page_contents(body)[0].count(b" re f") == dark


@pytest.mark.django_db
def test_the_receipt_pdf_is_refused_to_other_people(
    commune, citizen, make_agency, staff, submit_shop: SubmitShop
) -> None:
    other_staff = staff_of(make_agency("xa-khac", name="Xã Khác"), "khac")
    with agency_context(commune):
        dossier = submit_shop()
    url = f"/ho-so/{dossier.code}/bien-nhan.pdf"
    receptionist = _client(staff.receptionist).get(url)
    assert receptionist.status_code == 200 and receptionist["Content-Type"] == "application/pdf"
    assert _client(other_staff.admin).get(url).status_code == 404
    stranger = User.objects.create_user("nguoi-la@example.vn", "mat-khau-rat-dai-2")
    assert _client(stranger).get(url).status_code == 404
    anonymous = Client(HTTP_HOST=HOST).get(url)
    assert anonymous.status_code == 302  # to the sign-in page


@pytest.mark.django_db
def test_the_receipt_is_issued_once_sealed_by_its_own_agency(
    commune, citizen, make_agency, submit_shop: SubmitShop, signing_pki
) -> None:
    from documents import verify
    from documents.models import IssuedDocument, IssuedKind

    other = make_agency("xa-khac", name="Xã Khác")
    signing_pki.organisation(commune)
    signing_pki.organisation(other)
    with agency_context(commune):
        dossier = submit_shop()
    url = f"/ho-so/{dossier.code}/bien-nhan.pdf"
    first = b"".join(_client(citizen).get(url).streaming_content)
    again = b"".join(_client(citizen).get(url).streaming_content)
    assert first == again  # the same bytes, served again
    result = verify.pdf_verify(first)
    assert result.code == verify.VALID, result.message
    assert [c.signer for c in result.signatures] == [commune.name]  # never Xã Khác's key
    with agency_context(commune):
        row = IssuedDocument.objects.get(dossier=dossier, kind=IssuedKind.RECEIPT)
        assert row.signer == commune.name and row.signed_at is not None
        assert row.file.name.startswith(f"dossiers/{dossier.received_at:%Y/%m}/{dossier.pk}/")
        import hashlib

        assert row.sha256 == hashlib.sha256(first).hexdigest()
    with agency_context(other):
        assert not IssuedDocument.objects.exists()  # the row lives in the issuing agency only
