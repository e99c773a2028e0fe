"""The applicant's side of results: download (kept in their document store), rating once
per dossier after the result is returned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from docstore.services import stored_document_add_result
from documents.services import issued_open, issued_result_for
from dossiers.models import Dossier, DossierStatus, ResultDocument
from reports.services import stats_dossier_rated
from results.models import Rating
from tenants.db import connection

if TYPE_CHECKING:
    from accounts.models import User

DOWNLOADABLE = (DossierStatus.RESULT_READY, DossierStatus.RETURNED)
COMMENT_MAX = 2000


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _own(dossier: Dossier, user: User) -> None:
    if dossier.applicant_id is None or dossier.applicant_id != getattr(user, "pk", None):
        raise _refuse(_("This is not your dossier."), "owner")


def results_for_applicant(*, dossier: Dossier, user: User) -> list[ResultDocument]:
    """The issued results the applicant may download (none before the result is issued)."""
    if dossier.applicant_id != getattr(user, "pk", None) or dossier.status not in DOWNLOADABLE:
        return []
    return list(ResultDocument.objects.filter(dossier=dossier, issued_at__isnull=False))


@dataclass(frozen=True)
class Download:
    name: str
    content_type: str


def result_download(*, dossier: Dossier, user: User, result_id: int) -> tuple[Download, IO[bytes]]:
    """Open one issued result of the applicant's own dossier and keep it in their document
    store for reuse: the PDF the agency signed when there is one (the original inside it),
    otherwise the file the officer attached."""
    _own(dossier, user)
    result = next(
        (r for r in results_for_applicant(dossier=dossier, user=user) if r.pk == result_id), None
    )
    if result is None:
        raise _refuse(_("There is no issued result to download for this dossier."), "missing")
    issued = issued_result_for(dossier, result.pk)
    entry = stored_document_add_result(
        owner=user, agency=connection.tenant, result=result, issued=issued
    )
    if issued is not None:
        return Download(entry.original_name, "application/pdf"), issued_open(issued)
    return Download(result.original_name, result.content_type), result.file.open("rb")


def rating_submit(*, dossier: Dossier, user: User, score: Any, comment: str = "") -> Rating:
    """Rate the service for one dossier, once, after its result was returned."""
    _own(dossier, user)
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise _refuse(_("Choose a score from 1 to 5."), "input")
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX:
        raise _refuse(
            _("The comment is too long (at most %(max)d characters).") % {"max": COMMENT_MAX},
            "input",
        )
    try:
        with transaction.atomic():
            locked = Dossier.objects.select_for_update().filter(pk=dossier.pk).first()
            if locked is None or locked.applicant_id != user.pk:
                raise _refuse(_("This is not your dossier."), "owner")
            if locked.status != DossierStatus.RETURNED:
                raise _refuse(_("You can rate the service once the result is returned."), "status")
            if Rating.objects.filter(dossier=locked).exists():
                raise _refuse(_("You have already rated this dossier."), "duplicate")
            rating = Rating.objects.create(
                dossier=locked, score=value, comment=text, rated_at=timezone.now(), rated_by=user
            )
            audit_record(action="results.rated", actor=user, target=locked.code, score=value)
            stats_dossier_rated(dossier=locked, score=value, at=rating.rated_at)
    except IntegrityError:
        raise _refuse(_("You have already rated this dossier."), "duplicate") from None
    return rating


def rating_of(dossier: Dossier) -> Rating | None:
    return Rating.objects.filter(dossier=dossier).first()
