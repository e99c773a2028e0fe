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


class CreditNoteForm(forms.Form):
    amount = forms.IntegerField(label=_("Amount (VND)"), min_value=1)
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
