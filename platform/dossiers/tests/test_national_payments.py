"""Paying a fee through the national payment platform (Cổng DVCQG), against the stateful fake on
loopback: the signed redirect, the IPN and the return (verified; tampered → refused; replayed →
applied once; another agency's host → nothing), the status query, the daily reconciliation
file (lost notifications applied, disagreements queued, wrong files refused)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from django.core.exceptions import ValidationError
from django.test import Client

from billing.gateways.national_platform import sign, signature_valid
from dossiers.models import (
    Dossier,
    DossierEvent,
    FeeLineStatus,
    FeePayment,
    FeePaymentStatus,
    FeeReconciliationLine,
    FeeSettings,
)
from lifecycle.fees import fee_national_reconcile, fee_national_reconcile_fetch
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.fakes.national_payment import FakeNationalPayment, Order

HOST = "xa-an-binh.localhost"
IPN = "/thanh-toan-phi/dvcqg/ipn/"
RETURN = "/thanh-toan-phi/dvcqg/tra-ve/"
FEE = 50_000
VN = ZoneInfo("Asia/Ho_Chi_Minh")
BIRTH = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Trạm y tế xã",
}
pytestmark = pytest.mark.django_db


def _dossier(agency: Any, citizen: Any) -> Dossier:
    from tests.files import pdf, png

    with agency_context(agency):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        result = dossier_submit(
            agency=agency,
            procedure=birth,
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH,
            files={0: [pdf()], 1: [png("giay-chung-sinh.png")]},
            received_at=dt.datetime(2026, 11, 23, 9, 30, tzinfo=VN),
        )
        Dossier.objects.filter(pk=result.dossier.pk).update(fee_amount=FEE)
        FeeSettings.objects.update_or_create(pk=1, defaults={"channels": ["dvcqg"]})
        return Dossier.objects.get(pk=result.dossier.pk)


@pytest.fixture
def dossier(commune: Any, citizen: Any, national_payment: FakeNationalPayment) -> Dossier:
    return _dossier(commune, citizen)


@pytest.fixture
def client(citizen: Any) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.force_login(citizen)
    return client


def start(client: Client, dossier: Dossier, fake: FakeNationalPayment) -> str:
    """Press the national platform's button, open its payment page; the order id."""
    response = client.post(f"/ho-so-cua-toi/{dossier.code}/nop-phi/", {"gateway": "dvcqg"})
    assert response.status_code == 302, response.content[:300]
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}" == fake.url and target.path == "/thanh-toan"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert signature_valid(query)
    assert query["amount"] == str(FEE) and query["agency"] == "xa_an_binh"
    assert query["ipn_url"] == f"http://{HOST}{IPN}"
    assert query["return_url"] == f"http://{HOST}{RETURN}"
    page = requests.get(response["Location"], timeout=5)
    assert page.status_code == 200 and "Thanh toán" in page.text
    return query["order_id"]


def ipn(client: Client, fields: dict[str, str], host: str = HOST) -> Any:
    return Client(HTTP_HOST=host).post(IPN, data=fields, content_type="application/json")


def fee_events(agency: Any) -> int:
    with agency_context(agency):
        return DossierEvent.objects.filter(action="fee_paid_online").count()


def test_the_dossier_page_offers_only_the_chosen_channels(
    commune: Any,
    client: Client,
    dossier: Dossier,
    national_payment: FakeNationalPayment,
    vneid: Any,
) -> None:
    response = client.get(f"/ho-so-cua-toi/{dossier.code}/")
    # The browser checks the form's redirect against form-action: the platform must be in it.
    form_action = next(
        d for d in response["Content-Security-Policy"].split(";") if "form-action" in d
    )
    assert national_payment.url in form_action and "'self'" in form_action
    assert vneid.url in form_action  # the VNeID button: a form answered by a redirect there
    page = response.text
    assert 'value="dvcqg"' in page and 'value="stripe"' not in page
    refused = client.post(f"/ho-so-cua-toi/{dossier.code}/nop-phi/", {"gateway": "stripe"})
    assert refused.status_code == 302
    with agency_context(commune):
        assert not FeePayment.objects.exists()


def test_the_ipn_marks_the_fee_paid_once(
    commune: Any, client: Client, dossier: Dossier, national_payment: FakeNationalPayment
) -> None:
    order_id = start(client, dossier, national_payment)
    assert order_id.startswith("xa_an_binh:")
    fields = national_payment.pay(order_id, notify=False)

    first = ipn(client, fields)
    assert first.status_code == 200 and first.json()["code"] == "00"
    replay = ipn(client, fields)
    assert replay.status_code == 200 and replay.json()["code"] == "02"
    with agency_context(commune):
        assert Dossier.objects.get(pk=dossier.pk).fee_paid
        payment = FeePayment.objects.get()
        assert payment.status == FeePaymentStatus.PAID and payment.gateway == "dvcqg"
        event = DossierEvent.objects.get(action="fee_paid_online")
        assert fields["transaction_no"] in event.note
    assert fee_events(commune) == 1
    # The return afterwards says it is paid, and applies nothing again.
    back = client.get(RETURN, fields)
    assert back.status_code == 302 and back["Location"] == f"/ho-so-cua-toi/{dossier.code}/"
    assert fee_events(commune) == 1


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize(
    "tamper",
    [
        {"amount": "5000"},
        {"status": "paid", "order_id": "xa_an_binh:OTHER:1"},
        {"signature": "0" * 64},
    ],
)
def test_a_tampered_callback_is_refused_and_nothing_applied(
    commune: Any,
    client: Client,
    dossier: Dossier,
    national_payment: FakeNationalPayment,
    tamper: dict[str, str],
) -> None:
    order_id = start(client, dossier, national_payment)
    fields = {**national_payment.pay(order_id, notify=False), **tamper}
    response = ipn(client, fields)
    assert response.status_code == 400 and response.json()["code"] == "97"
    back = client.get(RETURN, fields, follow=True)
    assert "could not be verified; nothing was changed" in back.text
    with agency_context(commune):
        assert not Dossier.objects.get(pk=dossier.pk).fee_paid
        assert FeePayment.objects.get().status == FeePaymentStatus.PENDING
    assert fee_events(commune) == 0


def test_a_garbled_ipn_body_gets_a_clear_answer(commune: Any, dossier: Dossier) -> None:
    response = Client(HTTP_HOST=HOST).post(IPN, data=b"not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "99"


def test_an_unknown_reference_is_refused(
    commune: Any, dossier: Dossier, national_payment: FakeNationalPayment
) -> None:
    fields = {
        "partner_code": national_payment.partner, "order_id": "xa_an_binh:AB-000000-9999:1",
        "transaction_no": "DVCQG9", "amount": str(FEE), "currency": "VND", "status": "paid",
        "paid_at": "20261123100000",
    }  # fmt: skip
    fields["signature"] = sign(fields)
    response = ipn(Client(), fields)
    assert response.status_code == 404 and response.json()["code"] == "01"
    assert fee_events(commune) == 0


def test_one_agencys_callback_cannot_mark_anothers_fee(
    commune: Any,
    client: Client,
    dossier: Dossier,
    national_payment: FakeNationalPayment,
    make_agency: Any,
) -> None:
    other = make_agency("phuong-hoa-an", name="Phường Hòa An", code="HA")
    order_id = start(client, dossier, national_payment)
    fields = national_payment.pay(order_id, notify=False)
    # A valid notification of xa-an-binh's order, delivered on phuong-hoa-an's host.
    response = ipn(client, fields, host="phuong-hoa-an.localhost")
    assert response.status_code == 404 and response.json()["code"] == "01"
    # The citizen's return, on the other agency's host: nothing either.
    back = Client(HTTP_HOST="phuong-hoa-an.localhost").get(RETURN, fields)
    assert back.status_code == 302 and back["Location"] == "/ho-so-cua-toi/"
    with agency_context(commune):
        assert not Dossier.objects.get(pk=dossier.pk).fee_paid
    with agency_context(other):
        assert not FeePayment.objects.exists()
    assert fee_events(commune) == 0


def test_the_return_alone_marks_it_paid_when_the_ipn_is_lost(
    commune: Any, client: Client, dossier: Dossier, national_payment: FakeNationalPayment
) -> None:
    order_id = start(client, dossier, national_payment)
    fields = national_payment.pay(order_id, notify=False)
    back = client.get(RETURN, fields)
    assert back["Location"] == f"/ho-so-cua-toi/{dossier.code}/"
    with agency_context(commune):
        assert Dossier.objects.get(pk=dossier.pk).fee_paid


def test_a_cancelled_payment_changes_nothing(
    commune: Any, client: Client, dossier: Dossier, national_payment: FakeNationalPayment
) -> None:
    order_id = start(client, dossier, national_payment)
    order = national_payment.orders[order_id]
    order.status = "cancelled"
    response = ipn(client, national_payment.outcome(order))
    assert response.status_code == 200
    with agency_context(commune):
        assert FeePayment.objects.get().status == FeePaymentStatus.PENDING
        assert not Dossier.objects.get(pk=dossier.pk).fee_paid


def test_the_status_query_settles_a_payment_whose_notifications_were_lost(
    commune: Any, client: Client, dossier: Dossier, national_payment: FakeNationalPayment
) -> None:
    order_id = start(client, dossier, national_payment)
    check = f"/ho-so-cua-toi/{dossier.code}/nop-phi/kiem-tra/"
    assert f'action="{check}"' in client.get(f"/ho-so-cua-toi/{dossier.code}/").text
    client.post(check)  # not paid yet: nothing
    with agency_context(commune):
        assert not Dossier.objects.get(pk=dossier.pk).fee_paid
    national_payment.pay(order_id, notify=False)
    client.post(check)
    assert national_payment.queries == 2
    with agency_context(commune):
        assert Dossier.objects.get(pk=dossier.pk).fee_paid


@pytest.mark.usefixtures("english")
def test_a_status_answer_that_does_not_verify_changes_nothing(
    commune: Any,
    client: Client,
    dossier: Dossier,
    national_payment: FakeNationalPayment,
    settings: Any,
) -> None:
    order_id = start(client, dossier, national_payment)
    national_payment.pay(order_id, notify=False)
    settings.NATIONAL_PAYMENT_SECRET = "not-the-platforms-secret"
    answer = client.post(f"/ho-so-cua-toi/{dossier.code}/nop-phi/kiem-tra/", follow=True)
    assert "cannot be asked right now" in answer.text
    with agency_context(commune):
        assert not Dossier.objects.get(pk=dossier.pk).fee_paid


def test_another_amount_is_flagged_and_queued_for_staff(
    commune: Any, client: Client, dossier: Dossier, national_payment: FakeNationalPayment
) -> None:
    order_id = start(client, dossier, national_payment)
    fields = national_payment.pay(order_id, amount=40_000, notify=False)
    response = ipn(client, fields)
    assert response.json()["code"] == "04"
    ipn(client, fields)  # again: queued once
    with agency_context(commune):
        assert not Dossier.objects.get(pk=dossier.pk).fee_paid
        assert FeePayment.objects.get().status == FeePaymentStatus.FLAGGED
        line = FeeReconciliationLine.objects.get()
        assert line.status == FeeLineStatus.QUEUED and "40.000" in line.message


# --- the daily reconciliation file -------------------------------------------------------------


@pytest.mark.usefixtures("english")
def test_the_file_applies_a_lost_notification_once_and_queues_what_disagrees(
    commune: Any,
    client: Client,
    dossier: Dossier,
    citizen: Any,
    national_payment: FakeNationalPayment,
) -> None:
    order_id = start(client, dossier, national_payment)
    national_payment.pay(order_id, notify=False)  # the IPN never arrives
    # An order on the platform that this agency never started.
    stranger = Order(
        token="x",
        request={"order_id": "xa_an_binh:AB-XXXX:1", "amount": "7000", "agency": "xa_an_binh",
                 "ipn_url": "http://x/"},
    )  # fmt: skip
    national_payment.orders[stranger.order_id] = stranger
    national_payment.pay(stranger.order_id, notify=False)
    # A second dossier, marked paid here through the platform, missing from the platform's file.
    second = _dossier(commune, citizen)
    with agency_context(commune):
        FeePayment.objects.create(
            dossier=second, gateway="dvcqg", remote_id=f"xa_an_binh:{second.code}:1", amount=FEE,
            status=FeePaymentStatus.PAID, paid_at=national_payment.orders[order_id].paid_at,
        )  # fmt: skip
    day = national_payment.orders[order_id].paid_at.astimezone(VN).date()

    with agency_context(commune):
        report = fee_national_reconcile_fetch(day=day)
        assert (report.applied, report.matched, report.queued) == (1, 0, 2)
        assert Dossier.objects.get(pk=dossier.pk).fee_paid
        messages = sorted(
            FeeReconciliationLine.objects.filter(status=FeeLineStatus.QUEUED).values_list(
                "message", flat=True
            )
        )
        assert any("which this agency did not start" in m for m in messages)
        assert any("does not list order" in m for m in messages)
        again = fee_national_reconcile(data=national_payment.reconciliation_file("xa_an_binh", day))
        assert (again.applied, again.queued, again.already_known) == (0, 0, 3)
    assert fee_events(commune) == 1


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "The file is empty."),
        (b"Ngay,So tien,Noi dung\n01/12/2026,50000,LP1\n", "not the platform's header"),
        (b"%PDF-1.7 binary\xff\xfe", "not text"),
        ("cut", "no signature line"),
        ("tampered", "signature does not match"),
        ("other agency", "for another agency"),
    ],
)
def test_a_wrong_reconciliation_file_is_refused_whole(
    commune: Any,
    client: Client,
    dossier: Dossier,
    national_payment: FakeNationalPayment,
    data: Any,
    says: str,
) -> None:
    order_id = start(client, dossier, national_payment)
    national_payment.pay(order_id, notify=False)
    day = national_payment.orders[order_id].paid_at.astimezone(VN).date()
    good = national_payment.reconciliation_file("xa_an_binh", day).decode()
    if data == "cut":
        data = good.rsplit("SIG|", 1)[0].encode()
    elif data == "tampered":
        data = good.replace(f"|{FEE}|paid|", "|5000000|paid|").encode()
    elif data == "other agency":
        data = national_payment.reconciliation_file("phuong_hoa_an", day)
    with agency_context(commune):
        with pytest.raises(ValidationError) as refused:
            fee_national_reconcile(data=data)
        assert says in " ".join(refused.value.messages)
        assert not FeeReconciliationLine.objects.exists()
        assert not Dossier.objects.get(pk=dossier.pk).fee_paid


def test_the_daily_job_imports_each_offering_agencys_file_once(
    commune: Any,
    client: Client,
    dossier: Dossier,
    national_payment: FakeNationalPayment,
    make_agency: Any,
) -> None:
    from lifecycle.fees import fee_national_reconcile_for_each_agency
    from lifecycle.tasks import fee_national_reconcile_daily

    make_agency("phuong-hoa-an", name="Phường Hòa An", code="HA")
    order_id = start(client, dossier, national_payment)
    national_payment.pay(order_id, notify=False)
    day = national_payment.orders[order_id].paid_at.astimezone(VN).date()

    first = fee_national_reconcile_for_each_agency(day=day)
    assert first["xa_an_binh"] == "applied 1, queued 0, known 0"
    assert first["phuong_hoa_an"] == "not offered"
    assert fee_national_reconcile_for_each_agency(day=day)["xa_an_binh"].endswith("known 1")
    assert fee_events(commune) == 1
    # The beat task runs yesterday's files (the same day's, if the clock just crossed
    # midnight): nothing is applied again.
    assert fee_national_reconcile_daily()["xa_an_binh"].startswith("applied 0, queued 0")
    assert fee_events(commune) == 1


def test_the_command_imports_a_given_day_and_refuses_a_bad_date(
    commune: Any, client: Client, dossier: Dossier, national_payment: FakeNationalPayment
) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    order_id = start(client, dossier, national_payment)
    national_payment.pay(order_id, notify=False)
    day = national_payment.orders[order_id].paid_at.astimezone(VN).date()
    out = StringIO()
    call_command("fee_reconcile_national", "--date", day.isoformat(), stdout=out)
    assert "xa_an_binh: applied 1, queued 0, known 0" in out.getvalue()
    with pytest.raises(CommandError, match="is not a date"):
        call_command("fee_reconcile_national", "--date", "31/12/2026")
    assert fee_events(commune) == 1


def test_a_card_payment_is_not_offered_without_stripe_keys(
    commune: Any, dossier: Dossier, settings: Any
) -> None:
    from lifecycle.fees import fee_channels_offered

    with agency_context(commune):
        FeeSettings.objects.filter(pk=1).update(channels=["dvcqg", "stripe"])
        settings.STRIPE_API_KEY = "sk_test_configured"
        assert fee_channels_offered() == ["dvcqg", "stripe"]
        settings.STRIPE_API_KEY = ""
        assert fee_channels_offered() == ["dvcqg"]
