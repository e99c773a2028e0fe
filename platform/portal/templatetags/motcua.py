"""Template helpers of the portal: Vietnamese formats, processing times, and catalog data in the
reader's language (marked when it exists in Vietnamese only)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext
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


@register.filter
def napas_bank(bank_bin: Any) -> str:
    """970436 → "Vietcombank (970436)"; an unknown BIN as it is."""
    from billing.vietqr import NAPAS_BANKS

    name = NAPAS_BANKS.get(str(bank_bin))
    return f"{name} ({bank_bin})" if name else str(bank_bin)


@register.filter
def processing_time(days: Any) -> str:
    """0 → "Settled the same day"; n → "n working days"."""
    try:
        value = int(days)
    except (TypeError, ValueError):
        return ""
    if value == 0:
        return _("Settled the same working day")
    return ngettext("%(days)d working day", "%(days)d working days", value) % {"days": value}


@register.filter
def step_time(days: Any) -> str:
    """A step's budget: "within the day" for 0, else working days."""
    try:
        value = int(days)
    except (TypeError, ValueError):
        return ""
    if value == 0:
        return _("within the day")
    return ngettext("%(days)d working day", "%(days)d working days", value) % {"days": value}


def _in_english() -> bool:
    return (get_language() or "").startswith("en")


@register.simple_tag
def catalog_text(vietnamese: Any, english: Any = "") -> SafeString:
    """Catalog data in the reader's language: the English text where the catalog has it when
    the page is in English; otherwise the Vietnamese, marked as such on an English page
    (``lang="vi"`` for screen readers and hyphenation, a visible "VI" for everyone)."""
    if not _in_english():
        return format_html("{}", vietnamese)
    if english:
        return format_html("{}", english)
    return vietnamese_marked(vietnamese)


@register.filter
def vietnamese_marked(text: Any) -> SafeString:
    """Text that exists in Vietnamese only; marked as such on an English page."""
    if not _in_english() or text in (None, ""):
        return format_html("{}", text if text is not None else "")
    return format_html(
        '<span lang="vi">{}</span> <span class="lang-mark" title="{}">VI</span>'
        '<span class="visually-hidden"> ({})</span>',
        text,
        _("In Vietnamese"),
        _("in Vietnamese"),
    )


@register.simple_tag
def vietnamese_note() -> SafeString:
    """After a heading whose content below exists in Vietnamese only (on an English page)."""
    if not _in_english():
        return SafeString("")
    return format_html('<span class="lang-mark lang-note">{}</span>', _("in Vietnamese"))


@register.simple_tag
def content_lang() -> SafeString:
    """``lang="vi"`` for a block of Vietnamese-only catalog data on an English page."""
    return SafeString(' lang="vi"') if _in_english() else SafeString("")


@register.simple_tag(takes_context=True)
def staff_links(context: Any) -> list[tuple[str, str]]:
    """The signed-in person's way to their staff pages on this agency's host (header links)."""
    from django.urls import reverse

    from accounts.models import Role
    from accounts.permissions import agency_roles

    request = context.get("request")
    if request is None or getattr(request, "agency", None) is None:
        return []
    roles = agency_roles(request)
    links = []
    if roles - {Role.ADMIN, Role.VIEWER}:
        links.append((reverse("desk-worklist"), _("One-stop desk")))
    if Role.ADMIN in roles:
        links.append((reverse("agencyadmin-dashboard"), _("Administration")))
    elif roles & {Role.LEADER, Role.VIEWER}:
        links.append((reverse("reports-agency"), _("Statistics")))
    return links
