"""What the verification of a signed PDF found, kept per content (sha256). Agency schema.

The desk shows it as a badge on every signed document of a dossier; the check is made once
per distinct file (the first time an officer opens the dossier, or when a citizen attaches a
document from their store) and read back after that.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentCheck(models.Model):
    sha256 = models.CharField(max_length=64, unique=True)
    code = models.CharField(_("result"), max_length=20)
    message = models.TextField(_("message"))
    # One entry per signature: signer, organisation, issuer, signed_at (ISO), timestamped, code.
    signatures: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list)
    checked_at = models.DateTimeField(_("checked"), auto_now_add=True)

    class Meta:
        verbose_name = _("signature check")
        verbose_name_plural = _("signature checks")

    def __str__(self) -> str:
        return f"{self.sha256[:12]}: {self.code}"

    @property
    def ok(self) -> bool:
        return self.code == "valid"

    @property
    def signed(self) -> bool:
        """Whether the file carries a signature at all (the desk shows no badge otherwise)."""
        return self.code not in ("unsigned", "not_pdf", "unreadable")

    @property
    def signers(self) -> str:
        return ", ".join(s.get("signer", "") for s in self.signatures if s.get("signer"))

    @property
    def signature_rows(self) -> list[dict[str, Any]]:
        """The signatures with their times as datetimes (for the verification page)."""

        def when(value: Any) -> dt.datetime | None:
            try:
                return dt.datetime.fromisoformat(str(value)) if value else None
            except ValueError:
                return None

        return [
            {
                **s,
                "signed_at": when(s.get("signed_at")),
                "not_before": when(s.get("not_before")),
                "not_after": when(s.get("not_after")),
                "ok": s.get("code") == "valid",
            }
            for s in self.signatures
        ]
