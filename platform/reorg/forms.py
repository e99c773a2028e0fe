"""The console's merge form: sources, target, date, choices for clashing procedures."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.models import Agency, AgencyStatus


class MergeForm(forms.Form):
    sources = forms.ModelMultipleChoiceField(
        label=_("Agencies merged away"),
        queryset=Agency.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    target = forms.ModelChoiceField(label=_("Merged into"), queryset=Agency.objects.none())
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
