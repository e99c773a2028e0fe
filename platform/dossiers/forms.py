"""The dossier form: built from the procedure version's spec, shared by the citizen portal
and the one-stop desk's counter intake."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.spec import Component, FormField, ProcedureSpec
from dossiers.formdata import ANSWER_MAX_LENGTH


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files for one dossier component; the service checks type, size and count."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return list(data)
        return [data] if data else []


def _bounds(spec_field: FormField) -> dict[str, Any]:
    """The browser's hints for a number field (the service enforces them, see formdata)."""
    low = spec_field.min_value if spec_field.min_value is not None else 0
    attrs: dict[str, Any] = {"min": low}
    if spec_field.max_value is not None:
        attrs["max"] = spec_field.max_value
    return attrs


def _field_for(spec_field: FormField) -> forms.Field:
    common: dict[str, Any] = {"label": spec_field.label, "required": False}
    if spec_field.type == "textarea":
        return forms.CharField(
            widget=forms.Textarea(attrs={"rows": 3, "maxlength": ANSWER_MAX_LENGTH}), **common
        )
    if spec_field.type == "integer":
        return forms.CharField(
            widget=forms.NumberInput(attrs={"step": 1, **_bounds(spec_field)}), **common
        )
    if spec_field.type == "decimal":
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if spec_field.type == "date":
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if spec_field.type == "choice":
        choices = [("", "—")] + [(c, c) for c in spec_field.choices]
        return forms.ChoiceField(choices=choices, **common)
    if spec_field.type == "email":
        return forms.CharField(widget=forms.EmailInput(), **common)
    if spec_field.type == "phone":
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "tel"}), **common)
    attrs: dict[str, Any] = {"maxlength": ANSWER_MAX_LENGTH}
    if spec_field.pattern:
        attrs["pattern"] = spec_field.pattern
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


APPLICANT_FIELDS = ("applicant_name", "applicant_id_number", "applicant_phone", "applicant_address")


class DossierForm(forms.Form):
    """Applicant details, the procedure's own fields and one upload field per component.

    Only shapes the page: the rules (required, types, files) are enforced by
    ``lifecycle.submit`` so the portal, the desk and the API agree.
    """

    applicant_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    applicant_id_number = forms.CharField(
        label=_("Personal ID number"), max_length=12, required=False
    )
    applicant_phone = forms.CharField(label=_("Phone number"), max_length=20, required=False)
    applicant_address = forms.CharField(label=_("Address"), max_length=300, required=False)
    # Which draft this form fills (given when the form is first shown): saving the same
    # form again updates that draft, never makes a second one.
    draft_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, spec: ProcedureSpec, *args: Any, locked: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        # Details from the person's VNeID identity: shown, not editable, and never read from
        # the post (applicant_data); the services refuse any other value as well.
        self.locked = dict(locked or {})
        for key in self.locked:
            self.fields[key].disabled = True
            self.fields[key].help_text = _("From your VNeID identity.")
        for spec_field in spec.fields:
            field = _field_for(spec_field)
            field.widget.attrs["data-required"] = "1" if spec_field.required else "0"
            self.fields[f"f_{spec_field.key}"] = field
        for position, component in enumerate(spec.components):
            self.fields[f"component_{position}"] = MultipleFileField(
                label=component.name,
                required=False,
                help_text=_("Up to %(n)d file(s): PDF, JPEG, PNG, DOCX…")
                % {"n": component.max_files},
            )

    def spec_fields(self) -> list[tuple[FormField, forms.BoundField]]:
        return [(f, self[f"f_{f.key}"]) for f in self.spec.fields]

    def component_fields(self) -> list[tuple[int, Component, forms.BoundField]]:
        return [(i, c, self[f"component_{i}"]) for i, c in enumerate(self.spec.components)]

    def form_data(self) -> dict[str, str]:
        return {f.key: self.data.get(f"f_{f.key}", "") for f in self.spec.fields}

    def form_draft_id(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(str(self.data.get("draft_id", "")))
        except ValueError:
            return None

    def applicant_data(self) -> dict[str, str]:
        return {
            key: self.locked.get(key) or str(self.data.get(key, "")) for key in APPLICANT_FIELDS
        }

    def uploads(self) -> dict[int, list[Any]]:
        found = {}
        for position in range(len(self.spec.components)):
            files = self.files.getlist(f"component_{position}") if self.files else []
            if files:
                found[position] = list(files)
        return found

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Show the service's messages next to the fields they concern."""
        for key, messages in errors.items():
            # The service keys the procedure's own fields "form.<key>" (see dossier_check).
            own = f"f_{key.removeprefix('form.')}" if key.startswith("form.") else ""
            target = own if own in self.fields else key if key in self.fields else None
            for message in messages:
                self.add_error(target, message)
