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


class AdjustmentForm(forms.Form):
    direction = forms.ChoiceField(
        label=_("Adjustment"),
        choices=[("increase", _("Increase")), ("decrease", _("Decrease"))],
    )
    position = forms.IntegerField(label=_("Line number on the invoice"), min_value=1)
    amount = forms.IntegerField(label=_("Difference before VAT (VND)"), min_value=1)
    description = forms.CharField(label=_("What is adjusted"), max_length=200, required=False)
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class ReplacementForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class StatementUploadForm(forms.Form):
    statement = forms.FileField(
        label=_("Bank statement (CSV or Excel export)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,.xls"}),
    )


class LineResolveForm(forms.Form):
    invoices = forms.CharField(label=_("Invoices it pays"), max_length=300)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class LineDismissForm(forms.Form):
    note = forms.CharField(label=_("Why it pays no invoice"), max_length=2000)
