"""The register's filter form: parses the query string into a ``RegisterFilter``."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dossiers.models import Channel, DossierStatus, Outcome
from procedures.models import AgencyProcedure
from register.selectors import OVERDUE, RegisterFilter


def _choices(pairs: Any, empty: Any) -> list[tuple[str, Any]]:
    return [("", empty), *pairs]


class RegisterFilterForm(forms.Form):
    tu = forms.DateField(
        label=_("Received from"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    den = forms.DateField(
        label=_("Received until"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    thu_tuc = forms.ModelChoiceField(
        label=_("Procedure"),
        queryset=AgencyProcedure.objects.order_by("name"),
        required=False,
        empty_label=_("All procedures"),
    )
    trang_thai = forms.ChoiceField(label=_("Status"), required=False)
    kenh = forms.ChoiceField(label=_("Channel"), required=False)
    han = forms.ChoiceField(label=_("Timeliness"), required=False)
    q = forms.CharField(label=_("Code or applicant"), required=False, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["trang_thai"]).choices = _choices(
            DossierStatus.choices, _("All statuses")
        )
        cast(forms.ChoiceField, self.fields["kenh"]).choices = _choices(
            Channel.choices, _("All channels")
        )
        cast(forms.ChoiceField, self.fields["han"]).choices = _choices(
            [*Outcome.choices, (OVERDUE, _("Open and past due"))], _("Any")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("tu"), data.get("den")
        if start and end and start > end:
            raise ValidationError(_("The start of the period is after its end."))
        return data

    def to_filter(self) -> RegisterFilter:
        """The filter the valid fields describe (an invalid form filters nothing)."""
        data = self.cleaned_data if self.is_valid() else {}
        procedure = data.get("thu_tuc")
        return RegisterFilter(
            received_from=data.get("tu"),
            received_to=data.get("den"),
            procedure_id=procedure.pk if procedure is not None else None,
            status=data.get("trang_thai", ""),
            channel=data.get("kenh", ""),
            timeliness=data.get("han", ""),
            search=data.get("q", "").strip(),
        )
