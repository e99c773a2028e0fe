"""The agency admin's fee pages: the channels citizens are offered and the agency's bank account
(validated), the VietQR on the citizen's fee page, and the reconciliation of the agency's bank
statement by the reference the QR carries (applied once, the rest queued with a message)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from audit.models import AuditEntry
from billing.vietqr import vietqr_parse
from dossiers.models import Dossier, DossierEvent, FeeLineStatus, FeeReconciliationLine
from lifecycle.fees import fee_settings, fee_statement_import, fee_transfer_reference
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.fakes.bank import FakeBank

HOST = "xa-an-binh.localhost"
FEE = 100_000
ACCOUNT = {
    "bank_bin": "970436",
    "bank_account": "0451000123456",
    "bank_account_name": "ubnd xã an bình",
}
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def dossier(commune: Any, citizen: Any) -> Dossier:
    from tests.files import pdf, png

    with agency_context(commune):
        result = dossier_submit(
            agency=commune,
            procedure=AgencyProcedure.objects.get(code="S-HT-001"),
            applicant=Applicant.from_user(citizen),
            form_data={"child_full_name": "Nguyễn Văn B", "child_birth_date": "2026-11-20",
                       "child_sex": "Nam", "birth_place": "Trạm y tế xã"},
            files={0: [pdf()], 1: [png("giay-chung-sinh.png")]},
            received_at=dt.datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
        )  # fmt: skip
        Dossier.objects.filter(pk=result.dossier.pk).update(fee_amount=FEE)
        return Dossier.objects.get(pk=result.dossier.pk)


def test_the_admin_chooses_channels_and_the_citizen_sees_only_those(
    commune: Any, admin_client: Client, dossier: Dossier, citizen: Any
) -> None:
    assert admin_client.get("/quan-tri/thu-phi/").status_code == 200
    # VietQR without an account: refused, nothing saved.
    refused = admin_client.post("/quan-tri/thu-phi/", {"channels": ["vietqr"]})
    assert refused.status_code == 400 and "VietQR transfers need the agency" in refused.text
    bad = admin_client.post(
        "/quan-tri/thu-phi/", {"channels": ["vietqr"], **ACCOUNT, "bank_account": "12-34"}
    )
    assert bad.status_code == 400 and "1 to 19 letters or digits" in bad.text
    with agency_context(commune):
        assert fee_settings().channels == ["stripe"]

    saved = admin_client.post("/quan-tri/thu-phi/", {"channels": ["vietqr"], **ACCOUNT})
    assert saved.status_code == 302
    with agency_context(commune):
        current = fee_settings()
        assert current.channels == ["vietqr"] and current.bank_account_name == "UBND XA AN BINH"
        assert AuditEntry.objects.filter(action="fees.settings_updated").count() == 1
        reference = fee_transfer_reference(dossier)

    citizen_client = Client(HTTP_HOST=HOST)
    citizen_client.force_login(citizen)
    page = citizen_client.get(f"/ho-so-cua-toi/{dossier.code}/").text
    assert 'class="vietqr"' in page and "0451000123456" in page and "UBND XA AN BINH" in page
    assert 'name="gateway"' not in page  # no online channel chosen: no button
    svg_payload = re.search(r"<strong class=\"vietqr-memo\">([^<]+)</strong>", page)
    assert svg_payload and svg_payload.group(1).startswith(reference)
    with agency_context(commune):
        from lifecycle.fees import fee_transfer_qr

        qr = fee_transfer_qr(dossier=dossier)
    assert qr is not None
    parsed = vietqr_parse(qr.payload)
    assert (parsed.bank_bin, parsed.account, parsed.amount) == ("970436", "0451000123456", FEE)
    assert parsed.purpose.startswith(reference)


def test_the_national_platform_cannot_be_chosen_when_not_connected(
    admin_client: Client, settings: Any
) -> None:
    settings.NATIONAL_PAYMENT_URL = ""
    response = admin_client.post("/quan-tri/thu-phi/", {"channels": ["dvcqg"]})
    assert response.status_code == 400 and "not connected on this installation" in response.text


def test_only_admins_open_the_fee_pages(commune: Any, citizen: Any) -> None:
    client = Client(HTTP_HOST=HOST)
    client.force_login(citizen)
    for path in ("/quan-tri/thu-phi/", "/quan-tri/thu-phi/doi-soat/"):
        assert client.get(path).status_code == 403


def _statement(*bookings: tuple[int, str]) -> bytes:
    bank = FakeBank(account_number="0451000123456", secret="unused")
    for amount, memo in bookings:
        bank.book(amount, memo)
    return bank.statement_csv()


def test_the_statement_marks_the_fee_paid_once_and_queues_the_rest(
    commune: Any, admin_client: Client, dossier: Dossier
) -> None:
    with agency_context(commune):
        reference = fee_transfer_reference(dossier)
    data = _statement(
        (FEE, f"NGUYEN VAN A CHUYEN TIEN {reference.lower()} {dossier.code}"),
        (FEE, "CHUYEN TIEN LE PHI"),  # no reference
        (FEE, "LP 9999999"),  # no such dossier
        (20_000, f"{reference}"),  # another amount (and the fee is paid by then)
    )
    upload = {"kind": "statement", "file": _file("sao-ke.csv", data)}
    response = admin_client.post("/quan-tri/thu-phi/doi-soat/", upload, follow=True)
    assert "1 fee(s) marked paid" in response.text and "3 waiting for staff" in response.text
    with agency_context(commune):
        assert Dossier.objects.get(pk=dossier.pk).fee_paid
        queued = FeeReconciliationLine.objects.filter(status=FeeLineStatus.QUEUED)
        messages = " | ".join(queued.values_list("message", flat=True))
        assert "names no fee reference" in messages
        assert "No dossier of this agency has the fee reference LP9999999" in messages
        assert "already paid" in messages
    page = admin_client.get("/quan-tri/thu-phi/doi-soat/").text
    assert page.count('class="fee-line fee-line-queued"') == 3

    again = admin_client.post(
        "/quan-tri/thu-phi/doi-soat/",
        {"kind": "statement", "file": _file("sao-ke.csv", data)},
        follow=True,
    )
    assert "4 line(s) seen before" in again.text
    with agency_context(commune):
        assert DossierEvent.objects.filter(action="fee_paid_online").count() == 1
        assert FeeReconciliationLine.objects.count() == 4

    # Staff set one aside, with a reason.
    with agency_context(commune):
        line = FeeReconciliationLine.objects.filter(status=FeeLineStatus.QUEUED).first()
    assert line is not None
    no_note = admin_client.post(f"/quan-tri/thu-phi/doi-soat/{line.pk}/bo-qua/", {"note": ""})
    assert no_note.status_code == 302
    admin_client.post(
        f"/quan-tri/thu-phi/doi-soat/{line.pk}/bo-qua/", {"note": "Đã hoàn tiền cho người nộp"}
    )
    with agency_context(commune):
        line.refresh_from_db()
        assert line.status == FeeLineStatus.DISMISSED and "hoàn tiền" in line.message


def test_a_file_that_is_not_a_statement_is_refused_with_a_message(
    commune: Any, admin_client: Client, dossier: Dossier
) -> None:
    response = admin_client.post(
        "/quan-tri/thu-phi/doi-soat/",
        {"kind": "statement", "file": _file("anh.pdf", b"%PDF-1.7 not a statement")},
    )
    assert response.status_code == 400 and "not a CSV or Excel statement" in response.text
    wrong = admin_client.post(
        "/quan-tri/thu-phi/doi-soat/",
        {"kind": "national", "file": _file("doi-soat.txt", b"hello,world\n")},
    )
    assert wrong.status_code == 400 and "not the platform&#x27;s header" in wrong.text
    with agency_context(commune):
        assert not FeeReconciliationLine.objects.exists()
        assert not Dossier.objects.get(pk=dossier.pk).fee_paid


def test_another_agencys_statement_cannot_pay_this_agencys_fee(
    commune: Any, dossier: Dossier, make_agency: Any
) -> None:
    other = make_agency("phuong-hoa-an", name="Phường Hòa An", code="HA")
    with agency_context(commune):
        reference = fee_transfer_reference(dossier)
    with agency_context(other):
        report = fee_statement_import(data=_statement((FEE, reference)))
        assert (report.applied, report.queued) == (0, 1)
    with agency_context(commune):
        assert not Dossier.objects.get(pk=dossier.pk).fee_paid
        assert not FeeReconciliationLine.objects.exists()


def test_the_bank_fields_are_validated_by_the_service(commune: Any) -> None:
    from lifecycle.fees import fee_settings_update

    with agency_context(commune), pytest.raises(ValidationError) as refused:
        fee_settings_update(channels=[], bank_bin="123456", bank_account="", bank_account_name="")
    assert "bank_bin" in refused.value.message_dict and "__all__" in refused.value.message_dict


def _file(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)
