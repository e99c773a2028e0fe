"""Validation of payer data."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# A Vietnamese tax code (mã số thuế): 10 digits, or 10 digits and a 3-digit branch suffix.
TAX_CODE = re.compile(r"^\d{10}(-\d{3})?$")


def validate_tax_code(value: str) -> None:
    if not TAX_CODE.match(value):
        raise ValidationError(
            _(
                "Enter a tax code of 10 digits, or 10 digits, a dash and 3 digits"
                " (e.g. 0101234567-001)."
            ),
            code="tax_code",
        )
