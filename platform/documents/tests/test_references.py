"""Issue 15: every issued document (receipt, forms, the signed result) carries a public
verification reference; its QR code opens /xac-thuc/<reference>/ on the agency's own host,
which shows the stored document's check (genuine, who signed, when, certificate valid then)
and tells whether an uploaded copy is that very document. Another agency's host knows
nothing of it."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from desk import services
from desk.tests.conftest import staff, submit_shop
from documents.models import IssuedDocument, IssuedKind
from documents.references import REFERENCE_ALPHABET, REFERENCE_LENGTH
from documents.tests.test_issuing import _client, _to_decision, services_form
from dossiers.models import Dossier, ReturnMethod
from tenants.context import agency_context
from tests.pdftext import links

__all__ = ["staff", "submit_shop"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

HOST = "xa-an-binh.localhost"
_addresses = itertools.count(60)


def visitor(host: str = HOST) -> Client:
    # A fresh address per client: the verification page counts uploads per address.
    return Client(HTTP_HOST=host, REMOTE_ADDR=f"198.51.100.{next(_addresses) % 250}")


def _bytes(row: IssuedDocument) -> bytes:
    with row.file.open("rb") as fh:
        return bytes(fh.read())


def _verify_link(data: bytes) -> str:
    """The address the PDF's verification QR code carries (its link annotation)."""
    found = [u for u in links(data) if "/xac-thuc/" in u]
    assert len(found) == 1, links(data)
    return found[0]


def _held_code(page: Any) -> str:
    m = re.search(r'class="held-check[^"]*" data-code="([a-z_]+)"', page.text)
    return m.group(1) if m else ""


def _signed_result(commune: Any, staff: Any, submit_shop: Any, signing_pki: Any) -> Dossier:
    signing_pki.organisation(commune)
    signing_pki.person(commune, staff.leader)
    with agency_context(commune):
        d = submit_shop()
        _to_decision(d, staff)
        services.result_sign(dossier=d, actor=staff.leader)
        services.dossier_approve(dossier=d, actor=staff.leader)
    return d


def test_the_qr_of_a_signed_result_opens_a_page_that_says_it_is_genuine(
    commune, staff, submit_shop, signing_pki, make_agency
) -> None:
    make_agency("xa-khac", name="Xã Khác")
    d = _signed_result(commune, staff, submit_shop, signing_pki)
    with agency_context(commune):
        row = IssuedDocument.objects.get(dossier=d, kind=IssuedKind.RESULT)
        result = d.results.get()
        data = _bytes(row)
    assert len(row.reference) == REFERENCE_LENGTH
    assert set(row.reference) <= set(REFERENCE_ALPHABET)
    # The QR (and its link) is the verification page of that reference, on the commune's host;
    # the seal added on approval keeps the leader's layout and so the same reference.
    url = _verify_link(data)
    assert url == f"http://{HOST}/xac-thuc/{row.reference}/"

    page = visitor().get(f"/xac-thuc/{row.reference}/")
    assert page.status_code == 200
    assert _held_code(page) == "valid", page.text
    assert "This document is genuine" in page.text
    assert str(staff.leader.full_name or staff.leader.email) in page.text  # who signed
    assert commune.name in page.text  # the seal
    assert "trusted timestamp" in page.text and "valid when signed" in page.text  # when, valid
    assert result.number in page.text and d.procedure.name in page.text
    # The reference is read whatever case or separators the visitor types.
    spaced = "-".join(row.reference[i : i + 5] for i in range(0, 20, 5)).lower()
    assert _held_code(visitor().get(f"/xac-thuc/{spaced}/")) == "valid"

    # The very file the citizen got is "this document"; another signed file is not.
    same = visitor().post(
        f"/xac-thuc/{row.reference}/",
        {"file": SimpleUploadedFile("kq.pdf", data, "application/pdf")},
    )
    assert same.status_code == 200 and "exactly the document the agency issued" in same.text
    with agency_context(commune):
        other_file = _bytes(services_form(commune, d))
    not_it = visitor().post(
        f"/xac-thuc/{row.reference}/",
        {"file": SimpleUploadedFile("kq.pdf", other_file, "application/pdf")},
    )
    assert not_it.status_code == 200 and "is not the document the agency issued" in not_it.text

    # Tenancy: on another agency's host the reference names nothing.
    elsewhere = visitor("xa-khac.localhost").get(f"/xac-thuc/{row.reference}/")
    assert elsewhere.status_code == 404
    assert "No document of this agency carries this reference" in elsewhere.text
    assert row.reference not in elsewhere.text.replace(f"/xac-thuc/{row.reference}/", "")


def test_the_receipt_and_the_forms_print_their_own_verification_qr(
    commune, staff, submit_shop, citizen, signing_pki
) -> None:
    signing_pki.organisation(commune)
    with agency_context(commune):
        d = submit_shop()
        Dossier.objects.filter(pk=d.pk).update(applicant=citizen)
        services.dossier_claim(dossier=d, actor=staff.receptionist)
    receipt = _client(citizen).get(f"/ho-so/{d.code}/bien-nhan.pdf")
    assert receipt.status_code == 200, receipt.status_code
    b"".join(receipt.streaming_content)
    form = _client(staff.officer).get(f"/mot-cua/in/{d.code}/mau-06.pdf")
    assert form.status_code == 200
    b"".join(form.streaming_content)
    with agency_context(commune):
        rows = {r.kind: r for r in IssuedDocument.objects.filter(dossier=d)}
        files = {kind: _bytes(r) for kind, r in rows.items()}
    assert set(rows) == {IssuedKind.RECEIPT, IssuedKind.FORM_06}
    assert rows[IssuedKind.RECEIPT].reference != rows[IssuedKind.FORM_06].reference
    for row in rows.values():
        assert _verify_link(files[row.kind]) == f"http://{HOST}/xac-thuc/{row.reference}/"
        page = visitor().get(f"/xac-thuc/{row.reference}/")
        assert page.status_code == 200 and _held_code(page) == "valid", page.text
        assert row.get_kind_display() in page.text and d.code in page.text
    # The receipt keeps its tracking QR beside the verification one.
    assert any("/tra-cuu/?ma=" in u for u in links(files[IssuedKind.RECEIPT]))


def test_an_unsigned_issued_document_still_resolves_and_says_so(
    commune, staff, submit_shop
) -> None:
    """An agency without key material issues its forms unsigned: the reference page names
    the document and says plainly that its copy carries no signature (no 500, no "genuine")."""
    with agency_context(commune):
        d = submit_shop()
        services.dossier_claim(dossier=d, actor=staff.receptionist)
    assert _client(staff.officer).get(f"/mot-cua/in/{d.code}/mau-06.pdf").status_code == 200
    with agency_context(commune):
        row = IssuedDocument.objects.get(dossier=d, kind=IssuedKind.FORM_06)
    page = visitor().get(f"/xac-thuc/{row.reference}/")
    assert page.status_code == 200 and _held_code(page) == "unsigned"
    assert "This document is genuine" not in page.text


def test_a_result_returned_into_the_account_reaches_the_citizens_store(
    commune, staff, submit_shop, citizen, signing_pki
) -> None:
    """Decree 45: the result goes to the citizen's document store when it is returned
    electronically, not only once they download it from the dossier page."""
    from docstore.models import StoredDocument

    d = _signed_result(commune, staff, submit_shop, signing_pki)
    assert not StoredDocument.objects.filter(owner=citizen).exists()
    with agency_context(commune):
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.result_return(dossier=d, actor=staff.receptionist, method=ReturnMethod.ELECTRONIC)
        row = IssuedDocument.objects.get(dossier=d, kind=IssuedKind.RESULT)
        number = d.results.get().number
    entry = StoredDocument.objects.get(owner=citizen)
    assert entry.sha256 == row.sha256 and entry.number == number


def test_bad_copies_uploaded_on_a_reference_page_are_named_never_a_500(
    commune, staff, submit_shop, signing_pki, settings
) -> None:
    """The reference page answers every bad upload as the plain page does (one changed byte,
    not a PDF, empty, damaged, too large, no file), and never calls it this document."""
    signing_pki.organisation(commune)
    with agency_context(commune):
        d = submit_shop()
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        row = services_form(commune, d)
        data = _bytes(row)
    path = f"/xac-thuc/{row.reference}/"
    at = data.find(b"MotCua Cloud")
    assert at > 0
    settings.VERIFICATION_MAX_BYTES = len(data) + 10
    cases = [
        (data[:at] + b"N" + data[at + 1 :], "changed", "changed after it was signed"),
        (b"GIF89a\x01\x00 not a pdf at all", "not_pdf", "is not a PDF document"),
        (b"", "empty", "The file is empty"),
        (data[: len(data) // 3], "unreadable", "damaged and cannot be read"),
        (data + b"\n" + b"0" * 20, "too_large", "can be verified here"),
    ]
    client = visitor()
    for body, code, words in cases:
        page = client.post(path, {"file": SimpleUploadedFile("x.pdf", body, "application/pdf")})
        assert page.status_code == 400, (code, page.status_code)
        found = re.search(r'class="panel verify-result[^"]*"[^>]*data-code="([a-z_]+)"', page.text)
        assert found and found.group(1) == code and words in page.text, code
        assert "exactly the document the agency issued" not in page.text
    nothing = client.post(path, {})
    assert nothing.status_code == 400 and "Choose the PDF file to verify." in nothing.text
    # The page still names the document the reference stands for.
    assert d.code in nothing.text
