"""Late: Form 04 (apology and new appointment) moves a dossier's due date (``extend``).

The daily deadline job (``desk.deadlines``) prepares the drafts; a leader signs one here.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from desk import engine
from documents.signing import Signer, SigningError
from dossiers.files import files_delete
from dossiers.lifecycle import effects
from dossiers.lifecycle.core import denial, public_event, record_new
from dossiers.lifecycle.table import transition
from dossiers.models import Apology, ApologyStatus, Dossier
from notifications.services import day_text
from tenants.db import connection
from workdays.calendar import agency_calendar


def apology_sign(
    *,
    dossier: Dossier,
    actor: User,
    reason: str = "",
    new_due_date: dt.date | None = None,
    at: dt.datetime | None = None,
    signer: Signer | None = None,
) -> Apology:
    """A leader signs the dossier's draft apology (Form 04): the due date moves to the new
    appointment, the Form 04 PDF is issued signed with the leader's own certificate (the
    ``signer`` given, or their PKCS#12 file in this agency when they have one) and the
    agency's seal, and the applicant is notified, all in one transaction."""
    if Role.LEADER not in engine.roles_of(actor):
        raise denial(_("Only a leader signs the apology (Form 04)."), "role")
    written: list[str] = []
    try:
        return _apology_sign(dossier, actor, reason, new_due_date, at, signer, written)
    except BaseException:
        files_delete(written)
        raise


def _apology_sign(
    dossier: Dossier,
    actor: User,
    reason: str,
    new_due_date: dt.date | None,
    at: dt.datetime | None,
    signer: Signer | None,
    written: list[str],
) -> Apology:
    now = at or timezone.now()
    with transaction.atomic():
        fresh = (
            Dossier.objects.select_for_update(of=("self",))
            .select_related("procedure")
            .filter(pk=dossier.pk, code=dossier.code)
            .first()
        )
        if fresh is None:
            raise denial(_("This dossier does not exist in this agency."), "missing")
        apology = Apology.objects.select_for_update().filter(dossier=fresh).first()
        if apology is None or apology.status != ApologyStatus.DRAFT:
            raise denial(
                _("There is no apology waiting for a signature on this dossier."), "status"
            )
        row = transition(fresh.status, "extend")
        if row is None:
            raise denial(
                _("This is not possible while the dossier is “%(status)s”.")
                % {"status": fresh.get_status_display()},
                "status",
            )
        new_due = new_due_date or apology.new_due_date
        if new_due <= fresh.due_date or not agency_calendar().is_working_day(new_due):
            raise denial(
                _("The new appointment must be a working day after the current due date."),
                "input",
            )
        text = reason.strip() or apology.reason
        old_due = fresh.due_date
        apology.reason, apology.new_due_date, apology.old_due_date = text, new_due, old_due
        apology.status, apology.signed_at, apology.signed_by = ApologyStatus.SIGNED, now, actor
        apology.save()
        fresh.due_date = new_due
        fresh.save(update_fields=["due_date", "updated_at"])
        record_new(row)
        event = public_event(
            fresh,
            actor,
            "apology",
            at=now,
            from_status=fresh.status,
            to_status=fresh.status,
            note=_("New appointment: %(date)s. %(reason)s")
            % {"date": day_text(new_due), "reason": text},
        )
        effects.event_recorded(event)
        effects.audited(
            action="apology.signed",
            actor=actor,
            target=fresh.code,
            old_due=old_due.isoformat(),
            new_due=new_due.isoformat(),
        )
        try:
            effects.apology_issued(
                agency=connection.tenant, dossier=fresh, actor=actor, signer=signer, written=written
            )
        except SigningError as exc:
            raise denial(
                _("Form 04 could not be signed: %(reason)s") % {"reason": exc}, "signing"
            ) from None
        effects.applicant_notified(
            dossier=fresh,
            key="apology",
            due_date=day_text(old_due),
            new_due_date=day_text(new_due),
            reason=text,
        )
    return apology
