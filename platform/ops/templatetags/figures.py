"""Figures on dashboards: money amounts and charts drawn as inline SVG on the server.

Charts need no JavaScript and no CDN: they print, they work on a phone, and screen readers get
the same figures from the table each chart carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def money(amount: Any) -> str:
    """1234567 → "1.234.567 ₫" (Vietnamese grouping), including 0 ₫."""
    try:
        value = int(amount)
    except (TypeError, ValueError):
        return ""
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value):,}".replace(",", ".") + " ₫"


@register.filter
def number(value: Any) -> str:
    """A quantity with Vietnamese separators: 1234.5 → "1.234,5"; trailing zeros dropped."""
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    text = f"{d.normalize():,f}"
    whole, _, frac = text.partition(".")
    whole = whole.replace(",", ".")
    return f"{whole},{frac}" if frac else whole


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _svg(value: float) -> str:
    """A coordinate for an SVG attribute: a plain number with a dot (never localised, which
    would write "596,0" in Vietnamese and break the drawing)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@register.inclusion_tag("charts/bars.html")
def bar_chart(
    points: Sequence[tuple[Any, Any]],
    title: str = "",
    unit: str = "",
    height: int = 160,
    reference: Any = None,
    reference_label: str = "",
) -> dict[str, Any]:
    """A column chart of (label, value) points; ``reference`` draws a dashed line."""
    values = [float(v or 0) for _, v in points]
    top = _nice_max(max([*values, float(reference or 0)], default=0))
    count = max(len(points), 1)
    width = 600
    gap = 4 if count < 40 else 1
    bar_w = max((width - gap * count) / count, 1)
    bars = []
    for i, ((label, value), v) in enumerate(zip(points, values, strict=True)):
        h = v / top * height
        bars.append(
            {
                "x": _svg(i * (bar_w + gap)),
                "y": _svg(height - h),
                "w": _svg(bar_w),
                "h": _svg(h),
                "label": label,
                "value": value,
            }
        )
    ref_y = None if reference is None else _svg(height - float(reference) / top * height)
    return {
        "bars": bars,
        "title": title,
        "unit": unit,
        "width": width,
        "height": height,
        "top": top,
        "reference": reference,
        "reference_y": ref_y,
        "reference_label": reference_label,
        "first_label": points[0][0] if points else "",
        "last_label": points[-1][0] if points else "",
    }


@register.simple_tag
def period_shortcuts() -> list[tuple[str, str, str]]:
    """The periods people ask for most, as (label, start, end) in ISO dates: this month, last
    month, the last 30 days, this year."""
    import datetime as dt

    from django.utils import timezone
    from django.utils.translation import gettext as _

    today = timezone.localdate()
    first = today.replace(day=1)
    last_month_end = first - dt.timedelta(days=1)
    return [
        (_("This month"), first.isoformat(), today.isoformat()),
        (_("Last month"), last_month_end.replace(day=1).isoformat(), last_month_end.isoformat()),
        (_("Last 30 days"), (today - dt.timedelta(days=29)).isoformat(), today.isoformat()),
        (_("This year"), today.replace(month=1, day=1).isoformat(), today.isoformat()),
    ]
