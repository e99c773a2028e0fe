"""The applicant's document store (kho dữ liệu): their result documents across agencies.
Public schema.

An entry references the file where the issuing agency keeps it (the agency and the
path inside that agency's storage); the file is not copied. Reading it goes through
``docstore.services.stored_document_open``, which activates that agency explicitly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    RESULT = "result", _("Result of a dossier")
    CERTIFIED_COPY = "certified_copy", _("Electronic certified copy")


class StoredDocument(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stored_documents"
    )
    # An agency that is removed takes its files with it: its entries go too.
    agency = models.ForeignKey("tenants.Agency", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    # The row id of the source in the agency's schema (ids repeat across schemas).
    source_id = models.BigIntegerField()
    dossier_code = models.CharField(_("dossier code"), max_length=40)
    procedure_name = models.CharField(_("procedure"), max_length=500)
    number = models.CharField(_("document number"), max_length=60, blank=True)
    file_name = models.CharField(max_length=300)
    original_name = models.CharField(_("file"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    stored_at = models.DateTimeField(_("stored"), auto_now_add=True)

    class Meta:
        verbose_name = _("stored document")
        verbose_name_plural = _("stored documents")
        ordering = ["-stored_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "agency", "kind", "source_id"], name="stored_document_once"
            )
        ]
        indexes = [models.Index(fields=["owner", "-stored_at"], name="stored_document_owner")]

    def __str__(self) -> str:
        return self.number or self.original_name
