"""Rendering form fields accessibly: the widget knows its hint and its error message."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def field_widget(field: BoundField, **attrs: Any) -> SafeString:
    """The field's widget, ``aria-describedby`` naming its hint and error message (rendered by
    ``_form_field.html`` with these ids) and ``aria-invalid`` when it has an error."""
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-help")
    if field.errors:
        described.append(f"{field.auto_id}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return SafeString(field.as_widget(attrs=attrs))
