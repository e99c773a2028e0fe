"""Forms of the agency admin pages. They shape and type-check input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext_lazy as _

from catalog.spec import (
    FIELD_KEY_RE,
    FIELD_TYPES,
    MAX_FILES_LIMIT,
    NUMBER_BOUND_LIMIT,
    STEP_ROLES,
)
from procedures.services import ComponentInput, FieldInput, StepInput

FIELD_TYPE_LABELS = {
    "text": _("Short text"),
    "textarea": _("Long text"),
    "integer": _("Whole number"),
    "decimal": _("Number"),
    "date": _("Date"),
    "choice": _("Choice from a list"),
    "email": _("E-mail address"),
    "phone": _("Phone number"),
}
STEP_ROLE_LABELS = {
    "receptionist": _("Receptionist (one-stop desk)"),
    "officer": _("Processing officer"),
    "leader": _("Leader (signs)"),
}


class ProcedureSettingsForm(forms.Form):
    fee = forms.IntegerField(label=_("Fee (VND)"), min_value=0, max_value=10**12)
    processing_days = forms.IntegerField(
        label=_("Processing time (working days)"), min_value=0, max_value=365
    )
    cutoff_hour = forms.IntegerField(
        label=_("Cut-off hour"),
        min_value=0,
        max_value=24,
        help_text=_("Dossiers received after this hour count from the next working day."),
    )
    online_submission = forms.BooleanField(label=_("Online submission"), required=False)
    online_payment = forms.BooleanField(label=_("Online payment of the fee"), required=False)
    fee_before_result = forms.BooleanField(
        label=_("The fee must be paid before the result is returned"), required=False
    )
    identity_level_required = forms.TypedChoiceField(
        label=_("VNeID identity required to submit online"),
        choices=[(0, _("None")), (1, _("Level 1")), (2, _("Level 2"))],
        coerce=int,
        initial=0,
        required=False,
        empty_value=0,  # type: ignore[arg-type]  # stubs: str only
    )


class ComponentForm(forms.Form):
    """A catalog component: the agency chooses whether it is required and how many files."""

    required = forms.BooleanField(label=_("Required"), required=False)
    max_files = forms.IntegerField(label=_("Maximum files"), min_value=1, max_value=MAX_FILES_LIMIT)


class RowForm(forms.Form):
    """A formset row: renumbering (ORDER) or ticking DELETE alone does not make a blank row
    count as filled in. (Selects start on an empty choice for the same reason.)"""

    def has_changed(self) -> bool:
        return any(name not in ("ORDER", "DELETE") for name in self.changed_data)


class ExtraFieldForm(RowForm):
    key = forms.CharField(
        label=_("Key"),
        max_length=40,
        help_text=_("Lowercase letters, digits and _, e.g. zalo_number."),
    )
    label = forms.CharField(label=_("Label"), max_length=500)
    type = forms.ChoiceField(
        label=_("Type"), choices=[("", "—")] + [(t, FIELD_TYPE_LABELS[t]) for t in FIELD_TYPES]
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    choices = forms.CharField(
        label=_("Choices (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    pattern = forms.CharField(
        label=_("Pattern (regular expression)"), required=False, max_length=200
    )
    min_value = forms.FloatField(
        label=_("Minimum"),
        required=False,
        min_value=-NUMBER_BOUND_LIMIT,
        max_value=NUMBER_BOUND_LIMIT,
        help_text=_("Numbers only. Empty: no negative number."),
    )
    max_value = forms.FloatField(
        label=_("Maximum"),
        required=False,
        min_value=-NUMBER_BOUND_LIMIT,
        max_value=NUMBER_BOUND_LIMIT,
        help_text=_("Numbers only. Empty: no upper limit."),
    )

    def clean_key(self) -> str:
        key = str(self.cleaned_data["key"]).strip()
        if not FIELD_KEY_RE.match(key):
            raise forms.ValidationError(
                _("Start with a letter; use only lowercase letters, digits and _.")
            )
        return key

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("type") == "choice" and not choice_lines(data.get("choices", "")):
            self.add_error("choices", _("A choice field needs at least one choice."))
        return data


class StepForm(RowForm):
    name = forms.CharField(label=_("Step"), max_length=300)
    role = forms.ChoiceField(
        label=_("Role"), choices=[("", "—")] + [(r, STEP_ROLE_LABELS[r]) for r in STEP_ROLES]
    )
    days = forms.IntegerField(label=_("Working days"), min_value=0, max_value=365)
    transfer = forms.BooleanField(label=_("Inter-agency transfer"), required=False)


def choice_lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


class OrderedFormSet(BaseFormSet):  # type: ignore[type-arg]
    """Rows that can be added, removed (DELETE) and reordered (ORDER) without JavaScript."""

    def kept_rows(self) -> list[dict[str, Any]]:
        """Cleaned rows in the chosen order, without deleted and untouched blank ones."""
        return [form.cleaned_data for form in self.ordered_forms]

    @property
    def ordered_forms(self) -> list[forms.Form]:
        initial = self.initial_form_count()
        rows = [
            (index, form)
            for index, form in enumerate(self.forms)
            if (index < initial or form.has_changed())
            and not getattr(form, "cleaned_data", {}).get("DELETE", False)
        ]

        def position(item: tuple[int, forms.Form]) -> tuple[int, int]:
            index, form = item
            order = form.cleaned_data.get("ORDER")
            return (order if order is not None else 10_000 + index, index)

        return [form for _index, form in sorted(rows, key=position)]


ComponentFormSet = formset_factory(ComponentForm, extra=0)
ExtraFieldFormSet = formset_factory(
    ExtraFieldForm, formset=OrderedFormSet, extra=1, can_delete=True, can_order=True
)
StepFormSet = formset_factory(
    StepForm, formset=OrderedFormSet, extra=1, can_delete=True, can_order=True
)


def component_inputs(formset: Any) -> list[ComponentInput]:
    return [
        ComponentInput(
            name=form.initial.get("name", ""),
            required=bool(form.cleaned_data.get("required")),
            max_files=int(form.cleaned_data["max_files"]),
        )
        for form in formset.forms
    ]


def field_inputs(formset: OrderedFormSet) -> list[FieldInput]:
    return [
        FieldInput(
            key=row["key"],
            label=row["label"],
            type=row["type"],
            required=bool(row.get("required")),
            choices=choice_lines(row.get("choices", "")),
            pattern=str(row.get("pattern") or "").strip(),
            min_value=row.get("min_value"),
            max_value=row.get("max_value"),
        )
        for row in formset.kept_rows()
    ]


def step_inputs(formset: OrderedFormSet) -> list[StepInput]:
    return [
        StepInput(
            name=str(row["name"]).strip(),
            role=row["role"],
            days=int(row["days"]),
            transfer=bool(row.get("transfer")),
        )
        for row in formset.kept_rows()
    ]


class ColorInput(forms.TextInput):
    input_type = "color"


class BrandingForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=200, required=False)
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG, JPEG, WEBP or GIF, at most 1 MB and 2000 pixels a side."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}
        ),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    primary_color = forms.CharField(label=_("Main colour"), max_length=7, widget=ColorInput())
    accent_color = forms.CharField(label=_("Accent colour"), max_length=7, widget=ColorInput())
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    phone = forms.CharField(label=_("Phone number"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail address"), required=False)
    working_hours = forms.CharField(label=_("Opening hours"), max_length=200, required=False)
    privacy_url = forms.URLField(
        label=_("Privacy statement link"), required=False, assume_scheme="https"
    )
    announcements = forms.CharField(
        label=_("Announcements"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Simple formatting: paragraphs, bold, italics, lists and links."),
    )

    TEXT_FIELDS = (
        "display_name",
        "primary_color",
        "accent_color",
        "address",
        "phone",
        "email",
        "working_hours",
        "privacy_url",
        "announcements",
    )

    def values(self) -> dict[str, str]:
        return {key: str(self.cleaned_data.get(key) or "") for key in self.TEXT_FIELDS}


class CalendarOverrideForm(forms.Form):
    KIND_CHOICES = [
        ("working", _("Make-up working day")),
        ("off", _("Extra day off")),
    ]

    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    kind = forms.ChoiceField(label=_("Kind of day"), choices=KIND_CHOICES)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("E.g. the decision that sets it."),
    )


class CalendarRemoveForm(forms.Form):
    date = forms.DateField(input_formats=["%Y-%m-%d"])


class DossierCodePatternForm(forms.Form):
    dossier_code_pattern = forms.CharField(
        label=_("Dossier code pattern"),
        max_length=60,
        help_text=_("Tokens: {code} {yyyy} {yy} {mm} {dd} {yymmdd} {seq} or {seq:N} (N digits)."),
    )


def _bank_choices() -> list[tuple[str, Any]]:
    from billing.vietqr import NAPAS_BANKS

    return [("", _("— no account —"))] + [
        (bin_, f"{name} ({bin_})") for bin_, name in sorted(NAPAS_BANKS.items(), key=lambda i: i[1])
    ]


class FeeSettingsForm(forms.Form):
    """Which payment channels citizens are offered, and the account VietQR transfers go to."""

    channels = forms.MultipleChoiceField(
        label=_("Payment channels offered to citizens"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[],
    )
    bank_bin = forms.ChoiceField(label=_("Bank"), required=False, choices=[])
    bank_account = forms.CharField(label=_("Account number"), required=False, max_length=19)
    bank_account_name = forms.CharField(
        label=_("Account name"),
        required=False,
        max_length=50,
        help_text=_("As the bank shows it, e.g. UBND XA AN BINH."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from dossiers.models import FeeChannel

        super().__init__(*args, **kwargs)
        self.fields["channels"].choices = FeeChannel.choices  # type: ignore[attr-defined]
        self.fields["bank_bin"].choices = _bank_choices()  # type: ignore[attr-defined]


class FeeFileForm(forms.Form):
    KIND_CHOICES = [
        ("statement", _("The agency's bank statement (CSV or Excel)")),
        ("national", _("The national payment platform's daily reconciliation file")),
    ]
    kind = forms.ChoiceField(label=_("File"), choices=KIND_CHOICES)
    file = forms.FileField(label=_("Choose the file"))


class FeeFetchForm(forms.Form):
    day = forms.DateField(
        label=_("Day"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )


class FeeLineDismissForm(forms.Form):
    note = forms.CharField(label=_("Why it is set aside"), max_length=500)
