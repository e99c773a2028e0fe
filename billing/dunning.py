"""Dunning: overdue invoices → reminders → after a grace period the payer's agencies are
restricted (no new online dossiers; tracking and results stay open) → reinstated on payment.

Every change of an account's standing and every reminder is a BillingEvent. Running it twice on
the same day does nothing new.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import AccountStatus, BillingAccount, BillingEvent, Invoice, InvoiceStatus


def reminder_days() -> tuple[int, ...]:
    return tuple(getattr(settings, "BILLING_REMINDER_DAYS", (1, 7, 14)))


def grace_days() -> int:
    return int(getattr(settings, "BILLING_GRACE_DAYS", 30))


@dataclass
class DunningReport:
    day: dt.date
    reminders: list[int] = field(default_factory=list)  # BillingEvent ids of reminders
    past_due: list[int] = field(default_factory=list)
    restricted: list[int] = field(default_factory=list)
    reinstated: list[int] = field(default_factory=list)


def _set_status(
    account: BillingAccount, status: str, *, actor_email: str, **detail: object
) -> None:
    old = account.status
    account.status = status
    account.save(update_fields=["status"])
    BillingEvent.objects.create(
        billing_account=account,
        event="account_status_changed",
        actor_email=actor_email,
        detail={"old": old, "new": status, **detail},
    )


def _assess(
    account: BillingAccount, today: dt.date, report: DunningReport, actor_email: str
) -> None:
    """Bring one (locked) account's standing in line with its overdue invoices."""
    overdue = list(
        Invoice.objects.filter(
            billing_account=account, status=InvoiceStatus.ISSUED, due_on__lt=today
        ).order_by("due_on")
    )
    if not overdue:
        if account.status != AccountStatus.GOOD:
            _set_status(account, AccountStatus.GOOD, actor_email=actor_email, reason="settled")
            report.reinstated.append(account.pk)
        return
    worst = (today - overdue[0].due_on).days  # type: ignore[operator]
    if account.status == AccountStatus.GOOD:
        _set_status(account, AccountStatus.PAST_DUE, actor_email=actor_email,
                    invoice=overdue[0].number, days=worst)  # fmt: skip
        report.past_due.append(account.pk)
    for invoice in overdue:
        late = (today - invoice.due_on).days  # type: ignore[operator]
        sent = set(
            invoice.events.filter(event="reminder_sent").values_list("detail__stage", flat=True)
        )
        due_stages = [d for d in reminder_days() if d <= late and d not in sent]
        if due_stages:
            # One reminder per run, for the latest stage reached; the skipped ones are recorded
            # as covered so a payer is never sent a burst of mails after a pause.
            event = BillingEvent.objects.create(
                billing_account=account,
                invoice=invoice,
                event="reminder_sent",
                actor_email=actor_email,
                detail={"stage": max(due_stages), "covers": due_stages, "days_late": late},
            )
            for stage in due_stages[:-1]:
                BillingEvent.objects.create(
                    billing_account=account, invoice=invoice, event="reminder_sent",
                    actor_email=actor_email, detail={"stage": stage, "skipped": True},
                )  # fmt: skip
            report.reminders.append(event.pk)
            transaction.on_commit(partial(_send_reminder_later, event.pk))
    if worst >= grace_days() and account.status != AccountStatus.RESTRICTED:
        _set_status(account, AccountStatus.RESTRICTED, actor_email=actor_email,
                    invoice=overdue[0].number, days=worst)  # fmt: skip
        report.restricted.append(account.pk)


def _send_reminder_later(event_id: int) -> None:
    from billing.tasks import invoice_reminder_send

    invoice_reminder_send.delay(event_id)


def dunning_run(*, today: dt.date | None = None, actor_email: str = "") -> DunningReport:
    """The daily dunning pass over every account that is overdue or not in good standing."""
    today = today or timezone.localdate()
    report = DunningReport(day=today)
    candidates = set(
        Invoice.objects.filter(status=InvoiceStatus.ISSUED, due_on__lt=today).values_list(
            "billing_account_id", flat=True
        )
    ) | set(BillingAccount.objects.exclude(status=AccountStatus.GOOD).values_list("pk", flat=True))
    for account_id in sorted(candidates):
        with transaction.atomic():
            account = BillingAccount.objects.select_for_update().get(pk=account_id)
            _assess(account, today, report, actor_email)
    return report


def dunning_reassess(*, account: BillingAccount, actor_email: str = "") -> DunningReport:
    """After a payment or credit: reinstate at once if nothing is overdue any more."""
    report = DunningReport(day=timezone.localdate())
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=account.pk)
        if account.status != AccountStatus.GOOD:
            _assess(account, report.day, report, actor_email)
    return report
