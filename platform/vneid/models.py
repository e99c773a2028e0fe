"""A person's verified national identity (VNeID), as the identity provider last asserted it.

Public schema, one per person: the same identity on every agency's portal.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Identity(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vneid_identity"
    )
    subject = models.CharField(max_length=255, unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    personal_id_number = models.CharField(_("personal ID number"), max_length=12)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    level = models.PositiveSmallIntegerField(_("identity level"))
    verified_at = models.DateTimeField()

    class Meta:
        verbose_name = _("VNeID identity")
        verbose_name_plural = _("VNeID identities")

    def __str__(self) -> str:
        return f"{self.full_name} (VNeID {self.level})"
