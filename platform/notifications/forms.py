"""The form of the template editor (validation of the template itself is in the service)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class TemplateForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    body = forms.CharField(
        label=_("Text"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "Django template syntax. Available: {{ agency_name }}, {{ applicant_name }}, "
            "{{ dossier_code }}, {{ procedure_name }}, {{ due_date }}, {{ new_due_date }}, "
            "{{ reason }}, {{ items }}, {{ officer_name }}, {{ dossiers }}, {{ count }}."
        ),
    )
