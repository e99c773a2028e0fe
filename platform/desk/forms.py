"""Forms of the one-stop desk's own pages (the dossier form itself is the portal's)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_personal_id, validate_phone


class RefusalForm(forms.Form):
    """Refusing to receive at the counter (Form 03): who was refused, and why."""

    applicant_name = forms.CharField(label=_("Full name"), max_length=200)
    applicant_id_number = forms.CharField(
        label=_("Personal ID number"), max_length=12, required=False,
        validators=[validate_personal_id],
    )  # fmt: skip
    applicant_phone = forms.CharField(
        label=_("Phone number"), max_length=20, required=False, validators=[validate_phone]
    )
    reasons = forms.CharField(
        label=_("Reasons for refusing to receive, one per line"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
    )
