"""Reads of issued documents: the one a verification reference names (the QR code printed on
a receipt, a form or a result opens ``/xac-thuc/<reference>/``). Active agency's schema only:
another agency's reference names nothing here."""

from __future__ import annotations

from django.utils.translation import gettext as _

from documents.models import IssuedDocument, IssuedKind
from documents.references import HeldDocument


def _title_and_number(row: IssuedDocument) -> tuple[str, str]:
    dossier = row.dossier
    if row.kind == IssuedKind.RESULT and row.ref.isdigit():
        result = dossier.results.filter(pk=int(row.ref)).first()
        title = _("Result of the administrative procedure: %(procedure)s") % {
            "procedure": dossier.procedure.name
        }
        return title, (result.number if result is not None and result.number else dossier.code)
    return str(row.get_kind_display()), dossier.code


def issued_document_held(reference: str) -> HeldDocument | None:
    """The document the active agency issued under ``reference`` (for the verification page)."""
    row = (
        IssuedDocument.objects.select_related("dossier__procedure")
        .filter(reference=reference)
        .first()
    )
    if row is None:
        return None
    title, number = _title_and_number(row)
    return HeldDocument(
        reference=row.reference,
        title=title,
        number=number,
        issued_at=row.signed_at or row.created_at,
        sha256=row.sha256,
        open=lambda: row.file.open("rb"),
    )
