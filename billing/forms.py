"""Forms of the billing pages (validation of shape only; the services decide)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PaymentForm(forms.Form):
    amount = forms.IntegerField(label=_("Amount (VND)"), min_value=1)
    received_on = forms.DateField(
        label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(label=_("Bank transfer reference"), max_length=120)
    allow_overpayment = forms.BooleanField(
        label=_(
            "The payer really sent more than is owed: record the excess as an overpayment"
            " (to refund or to credit to the next invoice)"
        ),
        required=False,
    )


class CreditNoteForm(forms.Form):
    amount = forms.IntegerField(label=_("Amount (VND)"), min_value=1)
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class OverpaymentResolveForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("refund", _("Refund recorded")),
            ("credit", _("Credit to the next invoice")),
        ]
    )
    note = forms.CharField(
        label=_("Note (refund reference)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
