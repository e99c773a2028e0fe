"""Electronic certified copies (chứng thực bản sao điện tử từ bản chính). Agency schema.

An officer compares a scan with the original the citizen shows and certifies it; the copy is
a PDF carrying the certification (number, date, officer, the agency) with the scan inside,
signed with the agency's certificate (and the officer's own, where they have one), recorded
here and put into the citizen's document store.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.fields import public_user_fk


def copy_upload_to(instance: Any, filename: str) -> str:
    at = instance.certified_at
    return f"copies/{at:%Y/%m}/{filename}"


class CertifiedCopy(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    number = models.CharField(_("certification number"), max_length=40, unique=True)
    title = models.CharField(_("document"), max_length=300)
    applicant = public_user_fk(verbose_name=_("applicant account"))
    applicant_name = models.CharField(_("applicant"), max_length=200)
    # Certified from a document of a dossier (a desk action on it), or standalone.
    dossier = models.ForeignKey(
        "dossiers.Dossier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certified_copies",
    )
    source_document = models.ForeignKey(
        "dossiers.DossierDocument",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="certified_copies",
    )
    scan_sha256 = models.CharField(max_length=64)
    scan_content_type = models.CharField(max_length=100)
    file = models.FileField(upload_to=copy_upload_to, max_length=300)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    certified_at = models.DateTimeField(_("certified"))
    certified_by = public_user_fk(verbose_name=_("certified by"))
    signers: models.JSONField[list[str]] = models.JSONField(default=list)

    class Meta:
        verbose_name = _("certified copy")
        verbose_name_plural = _("certified copies")
        ordering = ["-certified_at", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class CopyCounter(models.Model):
    """The last certification number issued in a year (numbers restart each year)."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
