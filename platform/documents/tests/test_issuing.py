"""Issued documents: a leader signs a result through the lifecycle, the approval seals it with
the agency's certificate, the desk and the citizen get the same signed bytes; Form 04 signed;
rotation; one agency's key and documents stay its own."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import translation

from desk import services
from desk.tests.conftest import staff, staff_of, submit_shop
from docstore.models import StoredDocument
from documents import verify
from documents.models import IssuedDocument, IssuedKind
from dossiers.models import Dossier, HandOver, HandOverAction, ReturnMethod
from tenants.context import agency_context
from tests.files import PDF, pdf
from tests.fixtures.mfa import mfa_login

__all__ = ["staff", "submit_shop"]

HOST = "xa-an-binh.localhost"


def _client(user: Any, host: str = HOST) -> Client:
    client = Client(HTTP_HOST=host)
    mfa_login(client, user)  # staff pages want a second factor; harmless for a citizen
    return client


def _to_decision(d: Dossier, staff: Any) -> None:
    services.dossier_claim(dossier=d, actor=staff.receptionist)
    services.dossier_forward(dossier=d, actor=staff.receptionist)
    services.dossier_claim(dossier=d, actor=staff.officer)
    services.result_attach(dossier=d, actor=staff.officer, file=pdf("gcn.pdf"), number="12/GCN")
    services.dossier_forward(dossier=d, actor=staff.officer, to=staff.leader)


def _attachments(data: bytes) -> list[bytes]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    return [names[i + 1]["/EF"]["/F"].data for i in range(0, len(names), 2)]


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_a_leader_signs_the_result_the_agency_seals_it_and_the_citizen_gets_those_bytes(
    commune, staff, submit_shop, citizen, signing_pki
) -> None:
    signing_pki.organisation(commune)
    signing_pki.person(commune, staff.leader)
    with agency_context(commune):
        d = submit_shop()
        _to_decision(d, staff)
        signed = services.result_sign(dossier=d, actor=staff.leader)
        assert signed.kind == IssuedKind.RESULT and signed.signed_by_id == staff.leader.pk
        assert HandOver.objects.filter(dossier=d, action=HandOverAction.RESULT_SIGNED).exists()
        with pytest.raises(ValidationError, match="already signed"):
            services.result_sign(dossier=d, actor=staff.leader)
        services.dossier_approve(dossier=d, actor=staff.leader)
        row = IssuedDocument.objects.get(dossier=d, kind=IssuedKind.RESULT)
        result = d.results.get()
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.result_return(dossier=d, actor=staff.receptionist, method=ReturnMethod.ELECTRONIC)
        with row.file.open("rb") as fh:
            stored = fh.read()
    checked = verify.pdf_verify(stored)
    assert checked.code == verify.VALID, checked.message
    leader_name = str(staff.leader.full_name or staff.leader.email)
    assert [c.signer for c in checked.signatures] == [leader_name, commune.name]
    assert all(c.timestamped for c in checked.signatures)
    assert _attachments(stored) == [PDF]  # the original travels inside, under the signatures
    assert row.sha256 == hashlib.sha256(stored).hexdigest() and row.signed_by_id

    desk = _client(staff.officer).get(f"/mot-cua/in/{d.code}/ket-qua-{result.pk}.pdf")
    assert desk.status_code == 200 and b"".join(desk.streaming_content) == stored
    page = _client(staff.officer).get(f"/mot-cua/ho-so/{d.code}/")
    assert f"/mot-cua/in/{d.code}/ket-qua-{result.pk}.pdf" in page.text

    mine = _client(citizen).get(f"/ho-so-cua-toi/{d.code}/ket-qua/{result.pk}/")
    assert mine.status_code == 200 and b"".join(mine.streaming_content) == stored
    entry = StoredDocument.objects.get(owner=citizen)
    assert entry.sha256 == row.sha256 and entry.content_type == "application/pdf"


@pytest.mark.django_db
def test_signing_without_a_certificate_or_the_role_is_refused_and_leaves_nothing(
    commune, staff, submit_shop, signing_pki
) -> None:
    signing_pki.organisation(commune)
    with agency_context(commune):
        d = submit_shop()
        _to_decision(d, staff)
        before = set(default_storage.listdir(f"dossiers/{d.received_at:%Y/%m}/{d.pk}")[0])
        with pytest.raises(ValidationError, match="no signing certificate"):
            services.result_sign(dossier=d, actor=staff.leader)
        with translation.override("en"), pytest.raises(ValidationError, match="Only a leader"):
            services.result_sign(dossier=d, actor=staff.officer)
        assert not IssuedDocument.objects.exists()
        assert not HandOver.objects.filter(action=HandOverAction.RESULT_SIGNED).exists()
        after = set(default_storage.listdir(f"dossiers/{d.received_at:%Y/%m}/{d.pk}")[0])
        assert after == before  # no issued/ folder left behind
        # Without the leader's signature the approval still issues it, sealed by the agency.
        services.dossier_approve(dossier=d, actor=staff.leader)
        row = IssuedDocument.objects.get(dossier=d, kind=IssuedKind.RESULT)
        with row.file.open("rb") as fh:
            checked = verify.pdf_verify(fh.read())
    assert [c.signer for c in checked.signatures] == [commune.name]


@pytest.mark.django_db
def test_one_agencys_key_never_signs_and_its_documents_never_leave_it(
    commune, staff, submit_shop, make_agency, signing_pki
) -> None:
    other = make_agency("xa-khac", name="Xã Khác")
    other_staff = staff_of(other, "khac")
    signing_pki.organisation(other)  # only the other agency has a seal
    signing_pki.person(other, staff.leader)  # and the leader a certificate there only
    with agency_context(commune):
        d = submit_shop()
        _to_decision(d, staff)
        with pytest.raises(ValidationError, match="no signing certificate"):
            services.result_sign(dossier=d, actor=staff.leader)
        services.dossier_approve(dossier=d, actor=staff.leader)
        # No seal of its own: nothing is signed with Xã Khác's key.
        assert not IssuedDocument.objects.filter(kind=IssuedKind.RESULT).exists()
        signing_pki.organisation(commune)
        form06 = services_form(commune, d)
        result = d.results.get()
        with form06.file.open("rb") as fh:
            assert [c.signer for c in verify.pdf_verify(fh.read()).signatures] == [commune.name]
    # Xã Khác's staff reach neither the dossier's forms nor its result on their own host or ours.
    for host in (HOST, "xa-khac.localhost"):
        other_client = _client(other_staff.admin, host)
        assert other_client.get(f"/mot-cua/in/{d.code}/mau-06.pdf").status_code in (403, 404)
        assert other_client.get(f"/mot-cua/in/{d.code}/ket-qua-{result.pk}.pdf").status_code in (
            403,
            404,
        )
    with agency_context(other):
        assert not IssuedDocument.objects.exists()


def services_form(agency: Any, d: Dossier) -> IssuedDocument:
    from documents.services import form_issue

    return form_issue(agency=agency, dossier=d, form="06")


@pytest.mark.django_db
def test_forms_are_issued_once_per_version_and_rotation_keeps_them_valid(
    commune, staff, submit_shop, signing_pki
) -> None:
    signing_pki.organisation(commune)
    with agency_context(commune):
        d = submit_shop()
        services.dossier_claim(dossier=d, actor=staff.receptionist)
    officer = _client(staff.officer)
    url = f"/mot-cua/in/{d.code}/mau-06.pdf"
    first = b"".join(officer.get(url).streaming_content)
    assert b"".join(officer.get(url).streaming_content) == first  # same bytes again
    assert officer.get(f"/mot-cua/in/{d.code}/mau-02.pdf").status_code == 404  # no such form
    assert officer.get(f"/mot-cua/in/{d.code}/mau-99.pdf").status_code == 404

    signing_pki.organisation(commune)  # rotated: the old file moves to retired/
    with agency_context(commune):
        services.dossier_forward(dossier=d, actor=staff.receptionist)  # Form 06 grows
    second = b"".join(officer.get(url).streaming_content)
    assert second != first
    old, new = verify.pdf_verify(first), verify.pdf_verify(second)
    assert old.code == verify.VALID and new.code == verify.VALID, (old.message, new.message)
    assert old.signatures[0].serial != new.signatures[0].serial
    with agency_context(commune):
        assert IssuedDocument.objects.filter(dossier=d, kind=IssuedKind.FORM_06).count() == 2


@pytest.mark.django_db
def test_the_register_pdf_is_streamed_for_staff(commune, staff, submit_shop) -> None:
    with agency_context(commune):
        d = submit_shop()
    response = _client(staff.officer).get("/mot-cua/so-theo-doi/xuat-pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF-")
    from tests.pdftext import page_texts

    assert d.code in " ".join(page_texts(body))


@pytest.mark.django_db
def test_a_leader_signs_form_04_with_their_own_certificate(
    commune, staff, submit_shop, signing_pki
) -> None:
    from django.utils import timezone

    from desk.deadlines import apology_sign
    from dossiers.models import Apology
    from workdays.calendar import agency_calendar

    signing_pki.organisation(commune)
    signing_pki.person(commune, staff.leader)
    with agency_context(commune):
        d = submit_shop()
        new_due = agency_calendar().add_working_days(d.due_date, 3)
        Apology.objects.create(
            dossier=d,
            reason="Chưa kịp thẩm định",
            old_due_date=d.due_date,
            new_due_date=new_due,
            prepared_at=timezone.now(),
        )
        apology_sign(dossier=d, actor=staff.leader)
        row = IssuedDocument.objects.get(dossier=d, kind=IssuedKind.FORM_04)
        with row.file.open("rb") as fh:
            checked = verify.pdf_verify(fh.read())
    assert checked.code == verify.VALID, checked.message
    leader_name = str(staff.leader.full_name or staff.leader.email)
    assert [c.signer for c in checked.signatures] == [leader_name, commune.name]
    assert row.signed_by_id == staff.leader.pk


@pytest.mark.django_db
def test_signing_dev_ca_makes_keys_per_agency_and_leader_and_rotates(
    commune, staff, signing_pki
) -> None:
    from django.core.management import call_command

    from documents import keys

    out = io.StringIO()
    call_command("signing_dev_ca", commune.slug, stdout=out)
    assert keys.organisation_path(commune.schema_name).exists()
    assert keys.person_path(commune.schema_name, staff.leader.pk).exists()
    assert not keys.person_path(commune.schema_name, staff.officer.pk).exists()
    assert "issued" in out.getvalue()
    again = io.StringIO()
    call_command("signing_dev_ca", commune.slug, stdout=again)
    assert "issued" not in again.getvalue()  # kept
    call_command("signing_dev_ca", commune.slug, "--rotate", stdout=io.StringIO())
    assert list((keys.agency_dir(commune.schema_name) / "retired").glob("organisation-*.p12"))
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown agency"):
        call_command("signing_dev_ca", "khong-co", stdout=io.StringIO())
