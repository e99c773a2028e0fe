"""Every official PDF issued for a dossier, kept with it so the same bytes are served again.

The file lives in the agency's own storage (``dossiers/<yyyy>/<mm>/<dossier id>/issued/``
under the agency's folder or bucket prefix, see ``tenants.storage``), the row in the agency's
schema; the fingerprint and the signer are recorded beside it. ``ref`` says which version of
the source the PDF shows (the result's id, the Form 06 trail's last hand-over, …): a new
version of the source is a new document, an old one stays as it was issued. ``reference`` is the
random public reference its QR code prints (``documents.references``): the verification
page finds the document by it, in this agency only.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.fields import public_user_fk


class IssuedKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt (Form 01)")
    FORM_02 = "form_02", _("Supplement request (Form 02)")
    FORM_03 = "form_03", _("Refusal (Form 03)")
    FORM_04 = "form_04", _("Apology and new appointment (Form 04)")
    FORM_05 = "form_05", _("Stop notice (Form 05)")
    FORM_06 = "form_06", _("Processing control sheet (Form 06)")
    RESULT = "result", _("Result")


def issued_upload_to(instance: Any, filename: str) -> str:
    received = instance.dossier.received_at
    return f"dossiers/{received:%Y/%m}/{instance.dossier_id}/issued/{filename}"


class IssuedDocument(models.Model):
    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="issued_documents"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=IssuedKind.choices)
    ref = models.CharField(max_length=64, blank=True)
    # The public reference printed in the QR code: /xac-thuc/<reference>/ (verification).
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    file = models.FileField(upload_to=issued_upload_to, max_length=300)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    signer = models.CharField(_("signed by"), max_length=300, blank=True)
    signer_serial = models.CharField(max_length=64, blank=True)
    signed_by = public_user_fk(verbose_name=_("signed by (person)"))
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "kind", "ref"], name="documents_issued_once_per_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.ref}".strip()

    @property
    def download_name(self) -> str:
        code = self.dossier.code or str(self.dossier_id)
        return f"{self.kind.replace('_', '-')}-{code}{'-' + self.ref if self.ref else ''}.pdf"
