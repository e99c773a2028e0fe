"""Validation of Vietnamese personal data: the 12-digit personal identification number."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Place-of-registration codes that open a 12-digit personal ID (căn cước công dân),
# the 63 provinces' codes in force when the numbers were issued.
ID_PROVINCE_CODES = frozenset(
    [
        "001",
        "002",
        "004",
        "006",
        "008",
        "010",
        "011",
        "012",
        "014",
        "015",
        "017",
        "019",
        "020",
        "022",
        "024",
        "025",
        "026",
        "027",
        "030",
        "031",
        "033",
        "034",
        "035",
        "036",
        "037",
        "038",
        "040",
        "042",
        "044",
        "045",
        "046",
        "048",
        "049",
        "051",
        "052",
        "054",
        "056",
        "058",
        "060",
        "062",
        "064",
        "066",
        "067",
        "068",
        "070",
        "072",
        "074",
        "075",
        "077",
        "079",
        "080",
        "082",
        "083",
        "084",
        "086",
        "087",
        "089",
        "091",
        "092",
        "093",
        "094",
        "095",
        "096",
    ]
)


def validate_personal_id(value: str) -> None:
    """12 digits: province code (3), gender-and-century digit, year of birth (2), serial (6)."""
    number = (value or "").strip()
    if len(number) != 12 or not number.isdigit():
        raise ValidationError(
            _("The personal ID number must have exactly 12 digits."), code="format"
        )
    if number[:3] not in ID_PROVINCE_CODES:
        raise ValidationError(
            _("The personal ID number %(value)s does not start with a valid province code."),
            code="province",
            params={"value": number},
        )
    century = 1900 + (int(number[3]) // 2) * 100
    birth_year = century + int(number[4:6])
    if birth_year > timezone.localdate().year:
        raise ValidationError(
            _("The personal ID number %(value)s gives a year of birth in the future."),
            code="birth_year",
            params={"value": number},
        )


def validate_phone(value: str) -> None:
    """A Vietnamese phone number: 10 digits starting with 0, or +84 and 9 digits."""
    digits = value.strip().replace(" ", "").replace(".", "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    if not (len(digits) == 10 and digits.isdigit() and digits.startswith("0")):
        raise ValidationError(
            _("Enter a Vietnamese phone number, e.g. 0912 345 678."), code="phone"
        )
