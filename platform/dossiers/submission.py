"""What a received dossier is made of, before and as it is written: the applicant, the
checked submission, the result, and storing the documents (shared by intake, supplements
and transfers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.files.base import File

from dossiers.files import CheckedFile
from dossiers.models import Dossier, DossierDocument, DraftDocument
from procedures.models import ProcedureVersion

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class Applicant:
    name: str
    id_number: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    user: User | None = None

    @classmethod
    def from_user(cls, user: User, **overrides: str) -> Applicant:
        values = {
            "name": user.full_name or "",
            "id_number": user.personal_id_number or "",
            "phone": user.phone or "",
            "email": user.email or "",
            "address": user.address or "",
        }
        values.update({k: v for k, v in overrides.items() if v})
        return cls(user=user, **values)


@dataclass
class SubmitResult:
    dossier: Dossier
    created: bool = True
    documents: list[DossierDocument] = field(default_factory=list)


@dataclass
class CheckedSubmission:
    version: ProcedureVersion
    cleaned: dict[str, Any]
    files: dict[int, list[CheckedFile]]
    draft_documents: list[DraftDocument]


def documents_store(
    dossier: Dossier,
    version: ProcedureVersion,
    checked: Mapping[int, Sequence[CheckedFile]],
    written: list[str],
    draft_documents: Sequence[DraftDocument] = (),
) -> list[DossierDocument]:
    """Store checked uploads (and a draft's documents) as the dossier's documents, in the
    caller's transaction; every file written is listed in ``written`` for clean-up on failure."""
    components = version.spec.components
    rows: list[DossierDocument] = []
    for doc in draft_documents:
        if doc.component_position >= len(components):
            continue
        row = DossierDocument(
            dossier=dossier,
            component_position=doc.component_position,
            component_name=components[doc.component_position].name,
            original_name=doc.original_name,
            content_type=doc.content_type,
            size=doc.size,
            sha256=doc.sha256,
            from_store_document=doc.from_store_document,
        )
        with doc.file.open("rb") as fh:
            row.file.save(doc.file.name.rsplit("/", 1)[-1], File(fh), save=False)
        written.append(row.file.name)
        rows.append(row)
    for position, files in checked.items():
        for item in files:
            row = DossierDocument(
                dossier=dossier,
                component_position=position,
                component_name=components[position].name,
                original_name=item.original_name,
                content_type=item.content_type,
                size=item.size,
                sha256=item.sha256,
            )
            row.file.save(item.stored_name(), item.upload, save=False)
            written.append(row.file.name)
            rows.append(row)
    return DossierDocument.objects.bulk_create(rows)
