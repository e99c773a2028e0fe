"""Electronic certified copies: an officer certifies a dossier's document or a standalone
scan; the copy is signed with the agency's certificate, recorded, verifiable by its QR
reference, and lands in the citizen's document store. Refusals leave nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from accounts.services import membership_grant
from audit.models import AuditEntry
from copies.models import CertifiedCopy
from docstore.models import DocumentKind, StoredDocument
from documents import keys
from documents.verify import pdf_verify
from tenants.context import agency_context
from tests.files import exe, png
from tests.fixtures.mfa import mfa_login

HOST = "xa-an-binh.localhost"
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def client_for(user: Any, host: str = HOST) -> Client:
    client = Client(HTTP_HOST=host)
    if user.memberships.exists():
        mfa_login(client, user)
    else:
        client.force_login(user)
    return client


def test_an_officer_certifies_a_dossier_document(
    pki: Any, commune: Any, staff: Any, submit_shop: Any, citizen: Any, signed_pdf: Any
) -> None:
    with agency_context(commune):
        d = submit_shop()
        document = d.documents.get(component_position=1)
    officer = client_for(staff.officer)
    page = officer.get(f"/mot-cua/ho-so/{d.code}/")
    assert f"/mot-cua/chung-thuc/ho-so/{d.code}/tai-lieu/{document.pk}/" in page.text
    done = officer.post(
        f"/mot-cua/chung-thuc/ho-so/{d.code}/tai-lieu/{document.pk}/",
        {"title": "Giấy tờ pháp lý của chủ hộ (căn cước)"},
        follow=True,
    )
    assert "Copy certified (no. 00001/" in done.text
    with agency_context(commune):
        copy = CertifiedCopy.objects.get()
        assert (copy.dossier_id, copy.source_document_id, copy.applicant_id) == (
            d.pk,
            document.pk,
            citizen.pk,
        )
        with copy.file.open("rb") as fh:
            data = fh.read()
        assert AuditEntry.objects.filter(action="copies.certified", target=d.code).exists()
    result = pdf_verify(data)
    assert result.ok, result.message
    assert [s.signer for s in result.signatures] == ["UBND Xã An Bình"]
    assert result.signatures[0].timestamped
    assert b"/EmbeddedFile" in data  # the PDF scan travels inside, covered by the signature
    entry = StoredDocument.objects.get(owner=citizen)
    assert (entry.kind, entry.number, entry.agency_id) == (
        DocumentKind.CERTIFIED_COPY,
        copy.number,
        commune.pk,
    )
    # The citizen finds it in their store and downloads the very file.
    mine = client_for(citizen)
    assert copy.number in mine.get("/kho-du-lieu/").text
    assert b"".join(mine.get(f"/kho-du-lieu/{entry.pk}/").streaming_content) == data
    # Its QR reference: the agency's record, its copy's check, and an uploaded copy compared.
    held = Client(HTTP_HOST=HOST).get(f"/xac-thuc/{copy.reference}/")
    assert held.status_code == 200 and copy.number in held.text
    assert "Giấy tờ pháp lý của chủ hộ (căn cước)" in held.text
    same = Client(HTTP_HOST=HOST).post(
        f"/xac-thuc/{copy.reference}/",
        {"file": SimpleUploadedFile("x.pdf", data, "application/pdf")},
    )
    assert "exactly the document the agency issued" in same.text
    other = Client(HTTP_HOST=HOST).post(
        f"/xac-thuc/{copy.reference}/",
        {"file": SimpleUploadedFile("y.pdf", signed_pdf(), "application/pdf")},
    )
    assert other.status_code == 200  # validly signed, but another document
    assert "not the document the agency issued under this reference" in other.text


def test_the_officers_own_certificate_signs_too(
    pki: Any, commune: Any, staff: Any, citizen: Any
) -> None:
    keys.certificate_issue(
        pki.ca,
        keys.person_path(commune.schema_name, staff.officer.pk),
        common_name="Chuyên Viên Một",
        organisation="UBND Xã An Bình",
    )
    response = client_for(staff.officer).post(
        "/mot-cua/chung-thuc/",
        {"citizen": citizen.personal_id_number, "title": "Giấy khai sinh", "scan": png()},
    )
    assert response.status_code == 302
    with agency_context(commune):
        copy = CertifiedCopy.objects.get()
        assert copy.dossier_id is None and copy.scan_content_type == "image/png"
        data = copy.file.open("rb").read()
    result = pdf_verify(data)
    assert result.ok and [s.signer for s in result.signatures] == [
        "Chuyên Viên Một",
        "UBND Xã An Bình",
    ]
    assert StoredDocument.objects.filter(owner=citizen, kind="certified_copy").count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"citizen": "nobody@example.vn", "title": "Giấy khai sinh"}, "No citizen account"),
        ({"title": "Giấy khai sinh", "scan": "exe"}, "is not an accepted document"),
        ({"title": "", "scan": "png"}, "Name the document being certified"),
        ({"title": "Giấy khai sinh"}, "Choose the scan of the original"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_kept(
    pki: Any, commune: Any, staff: Any, citizen: Any, fields: dict[str, str], message: str
) -> None:
    data: dict[str, Any] = {"citizen": citizen.email, **fields}
    if data.get("scan") == "exe":
        data["scan"] = exe()
    elif data.get("scan") == "png":
        data["scan"] = png()
    response = client_for(staff.officer).post("/mot-cua/chung-thuc/", data)
    assert response.status_code == 400 and message in response.text
    with agency_context(commune):
        assert not CertifiedCopy.objects.exists()
    assert not StoredDocument.objects.exists()


def test_a_viewer_cannot_certify_and_a_signing_failure_leaves_nothing(
    pki: Any, commune: Any, staff: Any, citizen: Any
) -> None:
    refused = client_for(staff.viewer).post(
        "/mot-cua/chung-thuc/", {"citizen": citizen.email, "title": "Giấy khai sinh", "scan": png()}
    )
    assert "Only the agency&#x27;s officers can certify copies." in refused.text
    keys.organisation_path(commune.schema_name).unlink()  # the agency's key is missing
    failed = client_for(staff.officer).post(
        "/mot-cua/chung-thuc/", {"citizen": citizen.email, "title": "Giấy khai sinh", "scan": png()}
    )
    assert failed.status_code == 400 and "The copy could not be signed" in failed.text
    with agency_context(commune):
        assert not CertifiedCopy.objects.exists()
        folder = "copies"
        leftovers = default_storage.listdir(folder)[1] if default_storage.exists(folder) else []
        assert leftovers == []
    assert not StoredDocument.objects.exists()


def test_another_agency_sees_neither_the_copies_nor_their_references(
    pki: Any, commune: Any, staff: Any, citizen: Any, make_agency: Any, submit_shop: Any
) -> None:
    other = make_agency("phuong-b", name="Phường B")
    client_for(staff.officer).post(
        "/mot-cua/chung-thuc/", {"citizen": citizen.email, "title": "Giấy khai sinh", "scan": png()}
    )
    with agency_context(commune):
        copy = CertifiedCopy.objects.get()
    host_b = "phuong-b.localhost"
    assert Client(HTTP_HOST=host_b).get(f"/xac-thuc/{copy.reference}/").status_code == 404
    # The commune's officer has no role at B; B's pages do not list A's copies.
    assert client_for(staff.officer, host_b).get("/mot-cua/chung-thuc/").status_code in (302, 403)
    assert client_for(staff.officer, host_b).get(
        f"/mot-cua/chung-thuc/{copy.pk}/tep/"
    ).status_code in (302, 403, 404)
    with agency_context(other):
        assert not CertifiedCopy.objects.exists()
    # B's officer cannot certify a document of A's dossier: the code is unknown at B.
    officer_b = User.objects.create_user("canbo.b@example.vn", "x", full_name="Cán Bộ B")
    membership_grant(user=officer_b, agency=other, roles=["officer"])
    with agency_context(commune):
        dossier = submit_shop()
        document = dossier.documents.first()
    assert document is not None
    stranger = client_for(officer_b, host_b).post(
        f"/mot-cua/chung-thuc/ho-so/{dossier.code}/tai-lieu/{document.pk}/", {"title": "X"}
    )
    assert stranger.status_code == 404
    with agency_context(commune):
        assert CertifiedCopy.objects.count() == 1
