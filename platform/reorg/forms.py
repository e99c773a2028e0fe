"""The console's merge form: sources, target, date, choices for clashing procedures."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.models import Agency, AgencyStatus


class TargetOrNew(forms.Form):
    """An existing target agency (``target``), or a new one (``new_slug``, ``new_name``…)."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("target")) == bool(data.get("new_slug")):
            raise forms.ValidationError(
                _("Choose an existing agency, or give the new agency's address and name.")
            )
        return data

    def new_target(self) -> dict[str, str] | None:
        data = self.cleaned_data
        if data.get("target"):
            return None
        return {"slug": data["new_slug"], "name": data["new_name"], "code": data["new_code"]}


class MergeForm(TargetOrNew):
    sources = forms.ModelMultipleChoiceField(
        label=_("Agencies merged away"),
        queryset=Agency.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    target = forms.ModelChoiceField(
        label=_("Merged into"), queryset=Agency.objects.none(), required=False
    )
    new_slug = forms.SlugField(label=_("Or a new agency: its address"), required=False)
    new_name = forms.CharField(label=_("The new agency's name"), required=False, max_length=200)
    new_code = forms.CharField(label=_("The new agency's code"), required=False, max_length=20)
    effective_on = forms.DateField(
        label=_("Effective on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    choices = forms.CharField(
        label=_("Clashing procedures: whose settings win"),
        help_text=_("One per line: national code=agency slug. Default: the target's."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        servable = Agency.objects.filter(status__in=[AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED])
        self.fields["sources"].queryset = servable  # type: ignore[attr-defined]
        self.fields["target"].queryset = servable.filter(status=AgencyStatus.ACTIVE)  # type: ignore[attr-defined]

    def clean_choices(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in self.cleaned_data["choices"].splitlines():
            if not line.strip():
                continue
            code, sep, slug = line.partition("=")
            if not sep or not code.strip() or not slug.strip():
                raise forms.ValidationError(
                    _("Write each choice as code=slug: “%(line)s”."), params={"line": line}
                )
            out[code.strip()] = slug.strip()
        return out


def _lines(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


class SplitForm(TargetOrNew):
    source = forms.ModelChoiceField(label=_("Agency split"), queryset=Agency.objects.none())
    procedures = forms.CharField(
        label=_("Procedures that move"),
        help_text=_("National codes, one per line."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    staff = forms.CharField(
        label=_("Staff who move"),
        help_text=_("E-mail addresses, one per line."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    target = forms.ModelChoiceField(
        label=_("Into an existing agency"), queryset=Agency.objects.none(), required=False
    )
    new_slug = forms.SlugField(label=_("Or a new agency: its address"), required=False)
    new_name = forms.CharField(label=_("The new agency's name"), required=False, max_length=200)
    new_code = forms.CharField(label=_("The new agency's code"), required=False, max_length=20)
    effective_on = forms.DateField(
        label=_("Effective on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    choices = MergeForm.base_fields["choices"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        servable = Agency.objects.filter(status__in=[AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED])
        self.fields["source"].queryset = servable  # type: ignore[attr-defined]
        self.fields["target"].queryset = servable.filter(status=AgencyStatus.ACTIVE)  # type: ignore[attr-defined]

    clean_choices = MergeForm.clean_choices

    def clean_procedures(self) -> list[str]:
        return _lines(self.cleaned_data["procedures"])

    def clean_staff(self) -> list[str]:
        return _lines(self.cleaned_data["staff"])
