"""Inter-agency transfer (liên thông): send, accept, refuse, return.

Each service runs in one transaction across the two agencies' schemas (all schemas
share one database, so the hand-off is atomic): the ``Exchange`` row is locked
(``select_for_update``) and its state and ``owner`` change together with the
sender's dossier (status ``transferred`` and back, a Form 06 trail line). Two
officers racing on one transfer queue on the row lock; the second is checked
against what the first left and refused with a clear message.

Design: the receiving agency does *its part* on the transfer itself, without
opening a dossier of its own. The part asked of it (a verification, an opinion, a
registration step) is not one of its own procedures with a code, a fee and a due
date; a second dossier would count the applicant's one request twice in both
agencies' statistics and give the applicant two codes. What the receiver needs is
in the transfer: what is asked, copies of the documents in its own storage, and a
trail. The applicant keeps one dossier, one code and one due date (the sender's).

The receiver reaches into the sender's storage only in ``exchange_accept`` (copying
the documents sent) and the sender's schema only in ``_resume_sender`` (giving the
dossier back), both through ``agency_context`` and nowhere else. Every write to the
sender's dossier (status, trail, events) is the lifecycle's (``lifecycle``:
``transfer_begin`` and ``dossier_transfer_out``, ``dossier_transfer_in``).

Refusals are ``ValidationError`` with a code: ``missing``, ``status``, ``role``,
``assignee``, ``moved``, ``input`` (as in ``lifecycle``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import lifecycle
from accounts.models import Role, User
from audit.services import audit_record
from core.failpoints import failpoint
from dossiers import engine
from dossiers.files import check_file
from dossiers.models import Dossier, DossierDocument, DossierStatus, HandOverAction
from exchange.models import (
    Direction,
    Exchange,
    ExchangeDocument,
    ExchangeEvent,
    ExchangeState,
)
from exchange.selectors import exchange_receivers
from tenants.context import agency_context
from tenants.db import connection
from tenants.models import Agency

logger = logging.getLogger(__name__)

S = DossierStatus
RECEIVING_ROLES = frozenset({Role.RECEPTIONIST, Role.OFFICER, Role.LEADER, Role.ADMIN})
ANSWERING_ROLES = frozenset({Role.OFFICER, Role.LEADER, Role.ADMIN})


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _check_agency(agency: Agency) -> None:
    if getattr(connection.tenant, "pk", None) != agency.pk:
        raise RuntimeError("the agency's schema must be active")


def _require_roles(actor: User, allowed: frozenset[str]) -> None:
    if not engine.roles_of(actor) & allowed:
        raise _refuse(_("Your role in this agency does not allow this action."), "role")


# -- Sending -------------------------------------------------------------------------------


def exchange_send(
    *,
    agency: Agency,
    dossier: Dossier,
    actor: User,
    receiver: Agency,
    document_ids: Iterable[int] | None = None,
    note: str = "",
    expected_step: int | None = None,
) -> Exchange:
    """The officer holding a transfer step sends the dossier (all its documents, or the
    chosen ones) to another agency. The dossier leaves the sender's worklists (status
    ``transferred``) in the same transaction as the transfer is written."""
    _check_agency(agency)
    text = lifecycle.clean_text(note)
    with transaction.atomic():
        ctx = lifecycle.transfer_begin(dossier=dossier, actor=actor, expected_step=expected_step)
        position = ctx.process.step_position
        assert position is not None
        d = ctx.dossier
        if not exchange_receivers(sender=agency, dossier=d).filter(pk=receiver.pk).exists():
            raise _refuse(
                _("This dossier cannot be transferred to %(agency)s.") % {"agency": receiver.name},
                "input",
            )
        documents = list(DossierDocument.objects.filter(dossier=d))
        if document_ids is not None:
            wanted = set(document_ids)
            documents = [doc for doc in documents if doc.pk in wanted]
            if len(documents) != len(wanted):
                raise _refuse(_("Some chosen documents are not in this dossier."), "input")
        if not documents:
            raise _refuse(_("Choose at least one document to send."), "input")
        exchange = Exchange.objects.create(
            sender=agency,
            receiver=receiver,
            owner=receiver,
            state=ExchangeState.SENT,
            dossier_id=d.pk,
            dossier_code=d.code,
            procedure_code=d.procedure.code,
            procedure_name=d.procedure.name,
            applicant_name=d.applicant_name,
            step_position=position,
            step_name=ctx.process.step_name,
            request_note=text,
            sent_at=ctx.now,
            sent_by=actor,
        )
        ExchangeDocument.objects.bulk_create(
            ExchangeDocument(
                exchange=exchange,
                direction=Direction.SENT,
                name=doc.component_name,
                original_name=doc.original_name,
                content_type=doc.content_type,
                size=doc.size,
                sha256=doc.sha256,
                source_path=doc.file.name,
            )
            for doc in documents
        )
        _event(exchange, agency, actor, ExchangeState.SENT, text, at=ctx.now)
        failpoint("exchange.send.after_exchange")
        lifecycle.dossier_transfer_out(ctx, actor=actor, receiver_name=receiver.name, note=text)
    return exchange


# -- Receiving -----------------------------------------------------------------------------


def _lock_received(agency: Agency, exchange: Exchange | int) -> Exchange:
    """The transfer's fresh row, locked, if it was sent to this agency."""
    pk = exchange if isinstance(exchange, int) else exchange.pk
    try:
        return (
            Exchange.objects.select_for_update(of=("self",))
            .select_related("sender", "receiver")
            .get(pk=pk, receiver=agency)
        )
    except Exchange.DoesNotExist:
        raise _refuse(_("This transfer was not sent to this agency."), "missing") from None


def _require_state(exchange: Exchange, state: str) -> None:
    if exchange.state != state:
        raise _refuse(
            _("This is not possible: the transfer is “%(state)s”.")
            % {"state": exchange.get_state_display()},
            "status",
        )


def _event(
    exchange: Exchange, agency: Agency, actor: User, action: str, note: str, *, at: dt.datetime
) -> None:
    ExchangeEvent.objects.create(
        exchange=exchange, at=at, agency=agency, actor=actor, action=action, note=note
    )


def _read(agency: Agency, path: str) -> bytes:
    with agency_context(agency), default_storage.open(path, "rb") as handle:
        return bytes(handle.read())


def _delete(agency: Agency, paths: Sequence[str]) -> None:
    with agency_context(agency):
        for path in paths:
            try:
                default_storage.delete(path)
            except OSError:  # pragma: no cover - best effort; an orphan file is harmless
                logger.warning("could not delete %s", path)


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower()[:8] if "." in name else "bin"


def exchange_accept(*, agency: Agency, exchange: Exchange | int, actor: User) -> Exchange:
    """The receiving agency takes the transfer on: the documents sent are copied into its
    own storage, and it starts on its part."""
    _check_agency(agency)
    _require_roles(actor, RECEIVING_ROLES)
    written: list[str] = []
    try:
        with transaction.atomic():
            ex = _lock_received(agency, exchange)
            _require_state(ex, ExchangeState.SENT)
            now = timezone.now()
            for doc in ex.documents.filter(direction=Direction.SENT):
                content = _read(ex.sender, doc.source_path)
                if hashlib.sha256(content).hexdigest() != doc.sha256:
                    raise _refuse(
                        _(
                            "The document “%(name)s” is not what was sent; ask the sending agency "
                            "to send the dossier again."
                        )
                        % {"name": doc.original_name},
                        "input",
                    )
                path = default_storage.save(
                    f"exchange/{ex.folder}/{uuid.uuid4().hex}.{_extension(doc.source_path)}",
                    ContentFile(content),
                )
                written.append(path)
                doc.copy_path = path
                doc.save(update_fields=["copy_path"])
                failpoint("exchange.accept.after_copy")
            ex.state = ExchangeState.ACCEPTED
            ex.accepted_at = now
            ex.accepted_by = actor
            ex.save(update_fields=["state", "accepted_at", "accepted_by"])
            _event(ex, agency, actor, ExchangeState.ACCEPTED, "", at=now)
            audit_record(action="exchange.accepted", actor=actor, target=ex.dossier_code)
    except BaseException:
        _delete(agency, written)
        raise
    return ex


def exchange_refuse(
    *, agency: Agency, exchange: Exchange | int, actor: User, reason: str
) -> Exchange:
    """The receiving agency declines a transfer it has not accepted, saying why: the
    dossier goes back to the sender's officer at the transfer step."""
    _check_agency(agency)
    _require_roles(actor, RECEIVING_ROLES)
    text = lifecycle.clean_text(reason, required=_("Say why the transfer is refused."))
    with transaction.atomic():
        ex = _lock_received(agency, exchange)
        _require_state(ex, ExchangeState.SENT)
        now = timezone.now()
        _answer(ex, actor, ExchangeState.REFUSED, text, at=now)
        _event(ex, agency, actor, ExchangeState.REFUSED, text, at=now)
        audit_record(action="exchange.refused", actor=actor, target=ex.dossier_code)
        failpoint("exchange.refuse.before_sender")
        _resume_sender(
            ex, actor, HandOverAction.TRANSFER_REFUSED, f"{agency.name}: {text}", [], at=now
        )
    return ex


def exchange_return(
    *,
    agency: Agency,
    exchange: Exchange | int,
    actor: User,
    note: str = "",
    files: Sequence[UploadedFile] = (),
) -> Exchange:
    """The receiving agency has done its part and returns the result (documents, a note or
    both): the sender's dossier is back in processing at the step after the transfer,
    with the returned documents copied into its own storage."""
    _check_agency(agency)
    _require_roles(actor, ANSWERING_ROLES)
    text = lifecycle.clean_text(note)
    if not files and not text:
        raise _refuse(_("Attach the result of your part or describe it."), "input")
    checked = [check_file(f, component=_("Result")) for f in files]
    ours: list[str] = []
    theirs: list[str] = []
    sender: Agency | None = None
    try:
        with transaction.atomic():
            ex = _lock_received(agency, exchange)
            sender = ex.sender
            _require_state(ex, ExchangeState.ACCEPTED)
            now = timezone.now()
            returned: list[ExchangeDocument] = []
            for item in checked:
                path = default_storage.save(
                    f"exchange/{ex.folder}/returned/{item.stored_name()}", item.upload
                )
                ours.append(path)
                returned.append(
                    ExchangeDocument.objects.create(
                        exchange=ex,
                        direction=Direction.RETURNED,
                        name=_("Result"),
                        original_name=item.original_name,
                        content_type=item.content_type,
                        size=item.size,
                        sha256=item.sha256,
                        source_path=path,
                    )
                )
            copies = [(doc, _read(agency, doc.source_path)) for doc in returned]
            _answer(ex, actor, ExchangeState.RETURNED, text, at=now)
            _event(ex, agency, actor, ExchangeState.RETURNED, text, at=now)
            audit_record(action="exchange.returned", actor=actor, target=ex.dossier_code)
            failpoint("exchange.return.before_sender")
            summary = agency.name + (f": {text}" if text else "")
            _resume_sender(
                ex, actor, HandOverAction.TRANSFER_RETURNED, summary, copies, at=now, written=theirs
            )
    except BaseException:
        _delete(agency, ours)
        if sender is not None:
            _delete(sender, theirs)
        raise
    return ex


def _answer(ex: Exchange, actor: User, state: str, text: str, *, at: dt.datetime) -> None:
    """Close the transfer: ownership goes back to the sender with the state, in one write."""
    ex.state = state
    ex.owner = ex.sender
    ex.answered_at = at
    ex.answered_by = actor
    ex.answer_note = text
    ex.save(update_fields=["state", "owner", "answered_at", "answered_by", "answer_note"])


@dataclass
class _Resumed:
    dossier: Dossier
    position: int


def _resume_sender(
    ex: Exchange,
    actor: User,
    action: str,
    note: str,
    copies: Sequence[tuple[ExchangeDocument, bytes]],
    *,
    at: dt.datetime,
    written: list[str] | None = None,
) -> _Resumed:
    """In the sender's schema (same transaction): the dossier comes back into processing
    (the lifecycle's ``transfer_in``) and the returned documents are stored with it."""
    with agency_context(ex.sender):
        ctx = lifecycle.dossier_transfer_in(
            dossier_id=ex.dossier_id,
            dossier_code=ex.dossier_code,
            actor=actor,
            returned=action == HandOverAction.TRANSFER_RETURNED,
            step_position=ex.step_position,
            sent_by_id=ex.sent_by_id,
            receiver_name=ex.receiver.name,
            note=note,
            at=at,
        )
        d = ctx.dossier
        components = len(d.procedure_version.spec.components)
        label = _("Returned by %(agency)s") % {"agency": ex.receiver.name}
        for doc, content in copies:
            row = DossierDocument(
                dossier=d,
                component_position=components,
                component_name=label[:500],
                original_name=doc.original_name,
                content_type=doc.content_type,
                size=doc.size,
                sha256=doc.sha256,
            )
            row.file.save(
                f"{uuid.uuid4().hex}.{_extension(doc.source_path)}",
                ContentFile(content),
                save=False,
            )
            if written is not None:
                written.append(row.file.name)
            row.save()
            doc.copy_path = row.file.name
            doc.save(update_fields=["copy_path"])
        position = ctx.process.step_position
        assert position is not None
    return _Resumed(d, position)
