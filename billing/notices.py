"""E-mails to payers (in Vietnamese, the language of their accounts department)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from billing.models import BillingEvent


def reminder_email_send(*, event_id: int) -> str:
    """Send the reminder a dunning event stands for; returns the address it went to."""
    event = BillingEvent.objects.select_related("invoice", "billing_account").get(pk=event_id)
    invoice, account = event.invoice, event.billing_account
    assert invoice is not None and account is not None
    with translation.override(settings.LANGUAGE_CODE):
        context = {"invoice": invoice, "account": account, "days_late": event.detail["days_late"]}
        subject = render_to_string("billing/email/reminder_subject.txt", context).strip()
        body = render_to_string("billing/email/reminder_body.txt", context)
    send_mail(subject, body, None, [invoice.payer_email or account.email])
    return invoice.payer_email or account.email
