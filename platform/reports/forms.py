"""The period a dashboard shows: from/to dates, validated."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_PERIOD_DAYS = 5 * 366


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From date"), required=False)
    end = forms.DateField(label=_("To date"), required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        today = timezone.localdate()
        start = data.get("start") or today.replace(day=1)
        end = data.get("end") or today
        assert isinstance(start, dt.date) and isinstance(end, dt.date)
        if end < start:
            raise forms.ValidationError(
                _("The end of the period is before its start."), code="order"
            )
        if (end - start).days > MAX_PERIOD_DAYS:
            raise forms.ValidationError(
                _("A period can span at most five years; choose a shorter one."), code="range"
            )
        data["start"], data["end"] = start, end
        return data

    def period(self) -> tuple[dt.date, dt.date]:
        return self.cleaned_data["start"], self.cleaned_data["end"]


def period_from(params: object) -> tuple[PeriodForm, tuple[dt.date, dt.date] | None]:
    """The bound form and the period, or None when the input is invalid."""
    form = PeriodForm(params)  # type: ignore[arg-type]
    return form, form.period() if form.is_valid() else None
