"""Template filters for Vietnamese formats."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def vnd(amount: Any) -> str:
    """220000 → "220.000 ₫" (dots group thousands in Vietnamese); 0 → "No fee"."""
    try:
        value = int(amount)
    except (TypeError, ValueError):
        return ""
    if value == 0:
        return _("No fee")
    return f"{value:,}".replace(",", ".") + " ₫"
