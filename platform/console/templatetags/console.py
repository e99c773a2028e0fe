"""Template helpers of the provider console: its menu, province names, readable durations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tenants.units import provinces

register = template.Library()

# (URL name, label, the paths it stands for): the order people work in.
MENU: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("console-home", gettext_lazy("Overview"), ()),
    ("console-agencies", gettext_lazy("Agencies"), ("/console/agencies/",)),
    ("console-applications", gettext_lazy("Applications"), ("/console/onboarding/",)),
    ("console-province", gettext_lazy("Onboard a province"), ("/console/onboarding/province/",)),
    ("console-coverage", gettext_lazy("Coverage"), ("/console/coverage/",)),
    ("reports-console", gettext_lazy("Statistics"), ("/console/thong-ke/",)),
    ("console-billing", gettext_lazy("Billing"), ("/console/billing/",)),
    ("console-merges", gettext_lazy("Merging agencies"), ("/console/reorg/",)),
    ("console-splits", gettext_lazy("Splitting an agency"), ("/console/reorg/tach/",)),
    ("nationalsync-console", gettext_lazy("National portal sync"), ("/console/dong-bo/",)),
    ("audit-provider", gettext_lazy("Audit trail"), ("/console/nhat-ky/",)),
)


@register.inclusion_tag("console/_menu.html", takes_context=True)
def console_menu(context: dict[str, Any]) -> dict[str, Any]:
    """The console's menu, the current page's entry marked (the longest matching path)."""
    request = context.get("request")
    path = getattr(request, "path", "")
    best, best_length = "", -1
    for name, _label, prefixes in MENU:
        for prefix in prefixes or (reverse(name),):
            matches = path == prefix if not prefixes else path.startswith(prefix)
            if matches and len(prefix) > best_length:
                best, best_length = name, len(prefix)
    user = getattr(request, "user", None)
    return {
        "items": [(reverse(name), label, name == best) for name, label, _p in MENU],
        "show_admin": bool(getattr(user, "is_superuser", False)),
    }


def is_console_page(request: Any) -> bool:
    user = getattr(request, "user", None)
    return (
        getattr(request, "agency", None) is None
        and bool(getattr(user, "is_staff", False))
        and str(getattr(request, "path", "")).startswith("/console/")
        and getattr(request, "resolver_match", None) is not None
        and request.resolver_match.url_name != "console-login"
    )


@register.simple_tag(takes_context=True)
def on_console(context: dict[str, Any]) -> bool:
    return is_console_page(context.get("request"))


@register.simple_tag
def demo_mode() -> bool:
    """A local installation with the demo's accounts (``dev.py up``)."""
    return bool(settings.DEBUG)


@register.filter
def province_name(code: Any) -> str:
    """ "31" → "Thành phố Hải Phòng" (the code itself if unknown)."""
    text = str(code or "")
    if not text:
        return "—"
    key = f"{int(text):02d}" if text.isdigit() else text
    return provinces().get(key, text)


def _seconds(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@register.filter
def duration(value: Any) -> str:
    """A duration as people say it: "6 giây", "1,4 giây", "2 phút 5 giây", "3 giờ 10 phút"."""
    seconds = _seconds(value)
    if seconds is None:
        return "—"
    if seconds < 10:
        shown = Decimal(str(round(seconds, 1))).normalize()
        return _("%(n)s s") % {"n": number_format(shown, decimal_pos=1 if shown % 1 else 0)}
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours})
    if minutes:
        parts.append(ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes})
    if secs and not hours:
        parts.append(_("%(n)s s") % {"n": secs})
    return " ".join(parts)


@register.filter
def duration_until(start: Any, end: Any) -> str:
    """How long from ``start`` to ``end`` (two datetimes), as ``duration`` says it."""
    if not isinstance(start, dt.datetime) or not isinstance(end, dt.datetime):
        return "—"
    return duration(end - start)
