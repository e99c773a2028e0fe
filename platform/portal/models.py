"""How an agency's portal looks and whom to contact: one row per agency schema."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


def logo_upload_to(instance: Branding, filename: str) -> str:
    return f"branding/{filename}"


class Branding(models.Model):
    """The agency's branding. A singleton: always pk=1 (see ``portal.branding``)."""

    display_name = models.CharField(
        _("display name"),
        max_length=200,
        blank=True,
        help_text=_("Shown in the portal header; the agency's official name when empty."),
    )
    logo = models.ImageField(_("logo"), upload_to=logo_upload_to, blank=True, max_length=300)
    primary_color = models.CharField(_("main colour"), max_length=7, default="#b3261e")
    accent_color = models.CharField(_("accent colour"), max_length=7, default="#ffd54f")
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone number"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    working_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    privacy_url = models.URLField(_("privacy statement link"), blank=True)
    announcements = models.TextField(_("announcements"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("branding")
        verbose_name_plural = _("branding")

    def __str__(self) -> str:
        return self.display_name or "branding"
