"""The trail's filter form: parses the query string into a ``TrailFilter``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from audit.labels import action_label
from trails.selectors import TrailFilter

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
MAX_PERIOD_DAYS = 3660  # ten years: beyond that a typo, not a question


class TrailFilterForm(forms.Form):
    nguoi = forms.CharField(
        label=_("Person (e-mail or name)"), required=False, max_length=200, strip=True
    )
    doi_tuong = forms.CharField(
        label=_("Object (dossier code, procedure...)"), required=False, max_length=200
    )
    # Any action may be asked for (the list shows those recorded so far, cached briefly).
    hanh_dong = forms.CharField(label=_("Action"), required=False, max_length=80)
    tu = forms.DateField(
        label=_("From date"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    den = forms.DateField(
        label=_("To date"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, actions: list[str], kinds: list[tuple[str, Any]] | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        current = str(self.data.get("hanh_dong", "")) if self.is_bound else ""
        listed = [*actions, *([current] if current and current not in actions else [])]
        self.fields["hanh_dong"].widget = forms.Select(
            choices=[("", _("All actions")), *((a, action_label(a)) for a in listed)]
        )
        if kinds:
            self.fields["loai"] = forms.ChoiceField(
                label=_("Kind"), required=False, choices=[("", _("All kinds")), *kinds]
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("tu"), data.get("den")
        if start and end and start > end:
            raise ValidationError(_("The start of the period is after its end."), code="period")
        if start and end and (end - start).days > MAX_PERIOD_DAYS:
            raise ValidationError(_("Choose a period of at most ten years."), code="period")
        return data

    def to_filter(self) -> TrailFilter:
        """The filter the valid fields describe (an invalid form filters nothing)."""
        data = self.cleaned_data if self.is_valid() else {}
        return TrailFilter(
            person=data.get("nguoi", ""),
            target=(data.get("doi_tuong") or "").strip(),
            action=data.get("hanh_dong", ""),
            start=data.get("tu"),
            end=data.get("den"),
            kind=data.get("loai", ""),
        )
