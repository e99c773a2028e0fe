"""Checking what an applicant typed against the procedure version's form fields."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accounts.validators import validate_phone
from catalog.spec import FormField, ProcedureSpec
from core import inputs

# The longest answer a form field takes (the same for the portal, the desk and the API).
ANSWER_MAX_LENGTH = 4000


def too_long(text: str, limit: int) -> ValidationError | None:
    """The refusal of a text longer than ``limit``, saying the limit (None if it fits)."""
    if len(text) <= limit:
        return None
    return ValidationError(
        _("This is too long: at most %(limit)d characters (it has %(length)d).")
        % {"limit": limit, "length": len(text)},
        code="too_long",
    )


def answer_text(raw: Any) -> str:
    """An answer as text: NFC, trimmed; ValidationError for a NUL character."""
    try:
        return inputs.clean_text("" if raw is None else str(raw)).strip()
    except inputs.NulCharacter:
        raise ValidationError(
            _("This contains a NUL character (code 0), which is not allowed."), code="nul"
        ) from None


def _number_bounds(spec_field: FormField) -> tuple[Decimal, Decimal | None]:
    low = Decimal(str(spec_field.min_value)) if spec_field.min_value is not None else Decimal(0)
    high = Decimal(str(spec_field.max_value)) if spec_field.max_value is not None else None
    return low, high


def _check_bounds(spec_field: FormField, value: Decimal) -> None:
    low, high = _number_bounds(spec_field)
    if value < low:
        if spec_field.min_value is None:
            raise ValidationError(_("This cannot be negative."), code="min_value")
        raise ValidationError(
            _("Enter a number of at least %(min)s.") % {"min": _shown(low)}, code="min_value"
        )
    if high is not None and value > high:
        raise ValidationError(
            _("Enter a number of at most %(max)s.") % {"max": _shown(high)}, code="max_value"
        )


def _shown(value: Decimal) -> str:
    return str(number_format(value, force_grouping=True))


def clean_value(spec_field: FormField, raw: Any) -> Any:
    """One field: returns the JSON-storable value, or raises ValidationError."""
    text = answer_text(raw)
    if not text:
        if spec_field.required:
            raise ValidationError(_("This field is required."))
        return None
    if (error := too_long(text, ANSWER_MAX_LENGTH)) is not None:
        raise error
    if spec_field.type == "integer":
        try:
            number = int(text)
        except ValueError:
            raise ValidationError(_("Enter a whole number.")) from None
        _check_bounds(spec_field, Decimal(number))
        return number
    if spec_field.type == "decimal":
        try:
            value = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise ValidationError(_("Enter a number.")) from None
        if not value.is_finite():
            raise ValidationError(_("Enter a number."))
        _check_bounds(spec_field, value)
        return str(value)
    if spec_field.type == "date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from None
    if spec_field.type == "choice":
        if text not in spec_field.choices:
            raise ValidationError(_("Choose one of the options."))
        return text
    if spec_field.type == "email":
        validate_email(text)
        return text
    if spec_field.type == "phone":
        validate_phone(text)
        return text
    if spec_field.pattern and not re.fullmatch(spec_field.pattern, text):
        raise ValidationError(_("This answer does not have the expected format."))
    return text


def check_draft_answers(spec: ProcedureSpec, data: Mapping[str, Any]) -> dict[str, str]:
    """What a draft may keep: any answer, even incomplete, but not one the dossier could
    not take as typed (too long, a NUL character). Returns the answers as text (NFC);
    ValidationError keyed like ``clean_form_data`` otherwise. Nothing is ever cut."""
    kept: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    labels = {f.key: f.label for f in spec.fields}
    for key, raw in data.items():
        if key not in labels or raw in (None, ""):
            continue
        try:
            text = answer_text(raw)
            if (error := too_long(text, ANSWER_MAX_LENGTH)) is not None:
                raise error
        except ValidationError as exc:
            errors[key] = [f"{labels[key]}: {m}" for m in exc.messages]
            continue
        if text:
            kept[key] = text
    if errors:
        raise ValidationError(errors)
    return kept


def clean_form_data(spec: ProcedureSpec, data: dict[str, Any]) -> dict[str, Any]:
    """All fields at once: every error keyed by field, so a form can show them all."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for spec_field in spec.fields:
        try:
            cleaned[spec_field.key] = clean_value(spec_field, data.get(spec_field.key))
        except ValidationError as exc:
            errors[spec_field.key] = [f"{spec_field.label}: {m}" for m in exc.messages]
    if errors:
        raise ValidationError(errors)
    return cleaned
