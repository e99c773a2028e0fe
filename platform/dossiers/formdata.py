"""Checking what an applicant typed against the procedure version's form fields."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from accounts.validators import validate_phone
from catalog.spec import FormField, ProcedureSpec


def clean_value(spec_field: FormField, raw: Any) -> Any:
    """One field: returns the JSON-storable value, or raises ValidationError."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        if spec_field.required:
            raise ValidationError(_("This field is required."))
        return None
    if len(text) > 4000:
        raise ValidationError(_("This answer is too long."))
    if spec_field.type == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValidationError(_("Enter a whole number.")) from None
    if spec_field.type == "decimal":
        try:
            value = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise ValidationError(_("Enter a number.")) from None
        if not value.is_finite():
            raise ValidationError(_("Enter a number."))
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
