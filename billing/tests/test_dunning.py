"""Dunning: reminders, restriction after the grace period, reinstatement on payment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from billing.accounts import billing_account_create, subscription_start
from billing.dunning import dunning_run
from billing.invoicing import billing_month_close, payment_record
from billing.models import AccountStatus, BillingEvent, Invoice, Metric
from billing.pricing import RateInput, plan_create
from billing.selectors import agency_billing_restricted
from billing.tasks import invoice_reminder_send
from lifecycle.submit import Applicant, dossier_check, dossier_lookup, dossier_submit
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.files import pdf

pytestmark = pytest.mark.usefixtures("english")

BIRTH_FORM = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Bệnh viện Việt Tiệp",
}


@pytest.fixture
def billed_commune(commune: Any) -> Any:
    plan_create(
        code="xa",
        name="Xã",
        agency_kind="commune",
        monthly_fee=1_000_000,
        rates=[RateInput(metric=Metric.DOSSIER_RECEIVED, included=Decimal(10), unit_price=1_000)],
        effective_from=dt.date(2026, 1, 1),
        is_default=True,
    )
    payer = billing_account_create(
        name="UBND TP Hải Phòng", tax_code="0200000001", address="Hải Phòng",
        email="ketoan@example.vn",
    )  # fmt: skip
    subscription_start(agency=commune, billing_account=payer, starts_on=dt.date(2026, 9, 1))
    return commune


def submit(agency: Any, citizen: Any) -> Any:
    with agency_context(agency):
        return dossier_submit(
            agency=agency,
            procedure=AgencyProcedure.objects.get(code="S-HT-001"),
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH_FORM,
            files={0: [pdf()], 1: [pdf("giay-chung-sinh.pdf")]},
        ).dossier


@pytest.mark.django_db
def test_reminders_restriction_and_reinstatement(
    billed_commune: Any, citizen: Any, django_capture_on_commit_callbacks: Any
) -> None:
    earlier = submit(billed_commune, citizen)
    billing_month_close(period_start=dt.date(2026, 10, 1))
    invoice = Invoice.objects.get()
    due = invoice.due_on
    assert due is not None
    account = invoice.billing_account

    assert dunning_run(today=due).reminders == []  # due today is not late
    with django_capture_on_commit_callbacks() as queued:
        first = dunning_run(today=due + dt.timedelta(days=1))
    assert first.past_due == [account.pk] and len(first.reminders) == 1 and len(queued) == 1
    assert invoice_reminder_send(first.reminders[0]) == "ketoan@example.vn"
    assert invoice.number in mail.outbox[-1].subject

    # A pause: on day 8 the stage-7 reminder goes once, and re-running the day sends nothing.
    assert len(dunning_run(today=due + dt.timedelta(days=8)).reminders) == 1
    assert dunning_run(today=due + dt.timedelta(days=8)).reminders == []

    restricted = dunning_run(today=due + dt.timedelta(days=30))
    assert restricted.restricted == [account.pk]
    assert agency_billing_restricted(agency=billed_commune)
    with agency_context(billed_commune), pytest.raises(ValidationError, match="not accepting"):
        submit(billed_commune, citizen)
    # Citizens still track what they submitted before.
    with agency_context(billed_commune):
        assert dossier_lookup(code=earlier.code, secret=earlier.lookup_secret) is not None

    payment_record(invoice=invoice, amount=invoice.total, received_on=due, reference="FT-PAY-1")
    account.refresh_from_db()
    assert account.status == AccountStatus.GOOD
    assert not agency_billing_restricted(agency=billed_commune)
    assert submit(billed_commune, citizen).code
    changes = BillingEvent.objects.filter(billing_account=account, event="account_status_changed")
    assert [e.detail["new"] for e in changes.order_by("id")] == ["past_due", "restricted", "good"]


@pytest.mark.django_db
def test_restriction_applies_to_every_agency_of_the_payer_only(
    billed_commune: Any, make_agency: Any, citizen: Any
) -> None:
    other_payer = billing_account_create(
        name="UBND khác", tax_code="0300000001", address="x", email="khac@example.vn"
    )
    neighbour = make_agency(provision=False)
    subscription_start(agency=neighbour, billing_account=other_payer, starts_on=dt.date(2026, 9, 1))
    sibling = make_agency(provision=False)
    payer = billed_commune.subscriptions.get().billing_account
    subscription_start(agency=sibling, billing_account=payer, starts_on=dt.date(2026, 9, 1))
    billing_month_close(period_start=dt.date(2026, 10, 1))
    payment_record(
        invoice=Invoice.objects.get(billing_account=other_payer),
        amount=Invoice.objects.get(billing_account=other_payer).total,
        received_on=dt.date(2026, 11, 2),
        reference="FT-OTHER",
    )
    due = Invoice.objects.get(billing_account=payer).due_on
    assert due is not None
    dunning_run(today=due + dt.timedelta(days=45))
    assert agency_billing_restricted(agency=billed_commune)
    assert agency_billing_restricted(agency=sibling)
    assert not agency_billing_restricted(agency=neighbour)
    with agency_context(billed_commune), pytest.raises(ValidationError, match="not accepting"):
        dossier_check(
            agency=billed_commune,
            procedure=AgencyProcedure.objects.get(code="S-HT-001"),
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH_FORM,
        )
