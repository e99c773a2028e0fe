"""Forms of the citizen portal (the dossier form itself is ``dossiers.forms``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.validators import validate_personal_id, validate_phone


class ProfileForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = ["full_name", "personal_id_number", "phone", "address"]

    def clean_personal_id_number(self) -> str:
        value = str(self.cleaned_data.get("personal_id_number") or "").strip()
        if value:
            validate_personal_id(value)
        return value

    def clean_phone(self) -> str:
        value = str(self.cleaned_data.get("phone") or "").strip()
        if value:
            validate_phone(value)
        return value


class TrackingForm(forms.Form):
    code = forms.CharField(label=_("Dossier code"), max_length=40)
    secret = forms.CharField(label=_("Lookup code on the receipt"), max_length=20)
