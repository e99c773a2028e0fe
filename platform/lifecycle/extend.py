"""Late: Form 04 (apology and new appointment) moves a dossier's due date (``extend``).

The daily deadline job (``desk.deadlines``) has the drafts prepared here
(:func:`apology_drafts_prepare`); a leader signs one (:func:`apology_sign`); the notifications
outbox marks it sent once the applicant’s message went out (:func:`apology_mark_sent`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from documents.signing import Signer, SigningError
from dossiers import engine
from dossiers.files import files_delete
from dossiers.models import Apology, ApologyStatus, Dossier, DossierProcess
from lifecycle import effects
from lifecycle.core import denial, public_event, record_new
from lifecycle.table import transition
from notifications.models import Notification, TemplateKey
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


@dataclass
class DraftsPrepared:
    prepared: int  # drafts written now
    due: int  # open dossiers due in the window (with or without a draft)
    # (assignee id, code, due date, e-mail, name) of those held by an active officer
    held: list[tuple[int, str, dt.date, str, str]] = field(default_factory=list)


def apology_drafts_prepare(
    *,
    running: Sequence[str],
    due_days: Sequence[dt.date],
    new_days: Sequence[dt.date],
    reason: str,
    at: dt.datetime | None = None,
) -> DraftsPrepared:
    """Draft Form 04 for every dossier in ``running`` due on one of ``due_days`` that has none
    yet, with the matching day of ``new_days`` as its new appointment (the daily deadline job,
    ``desk.deadlines``, computes both from the calendar). One statement per agency; a second
    run the same day writes nothing. A leader then signs a draft (:func:`apology_sign`)."""
    if not due_days:
        return DraftsPrepared(prepared=0, due=0)
    dossier_t = Dossier._meta.db_table
    process_t = DossierProcess._meta.db_table
    apology_t = Apology._meta.db_table
    user_t = f'"public"."{User._meta.db_table}"'
    sql = f"""
        WITH due AS (
            SELECT d.id, d.code, d.due_date, p.assignee_id, a.status AS apology_status
            FROM {dossier_t} d
            LEFT JOIN {process_t} p ON p.dossier_id = d.id
            LEFT JOIN {apology_t} a ON a.dossier_id = d.id
            WHERE d.status = ANY(%(running)s) AND d.due_date >= %(first)s
              AND d.due_date <= %(last)s AND (a.status IS NULL OR a.status = %(draft)s)
        ), ins AS (
            INSERT INTO {apology_t}
                (dossier_id, reason, old_due_date, new_due_date, status, prepared_at)
            SELECT due.id, %(reason)s, due.due_date, m.new_due, %(draft)s, %(now)s
            FROM due JOIN unnest(%(due_days)s::date[], %(new_days)s::date[]) AS m(due, new_due)
              ON m.due = due.due_date
            WHERE due.apology_status IS NULL
            ON CONFLICT (dossier_id) DO NOTHING
            RETURNING 1
        )
        SELECT NULL::integer, NULL, NULL, NULL, NULL,
               (SELECT count(*) FROM ins), (SELECT count(*) FROM due)
        UNION ALL
        SELECT due.assignee_id, due.code, due.due_date, u.email, u.full_name, NULL, NULL
        FROM due JOIN {user_t} u ON u.id = due.assignee_id AND u.is_active
    """  # noqa: S608 - table names come from our models
    params: dict[str, Any] = {
        "running": list(running),
        "first": due_days[0],
        "last": due_days[-1],
        "draft": ApologyStatus.DRAFT,
        "reason": reason,
        "due_days": due_days,
        "new_days": new_days,
        "now": at or timezone.now(),
    }
    out = DraftsPrepared(prepared=0, due=0)
    with transaction.atomic(), db_connection.cursor() as cursor:
        cursor.execute(sql, params)
        for user_id, code, due, email, name, inserted, found in cursor.fetchall():
            if user_id is None:
                out.prepared, out.due = int(inserted), int(found)
            else:
                out.held.append((user_id, code, due, email, name))
    return out


def apology_mark_sent(*, notification: Notification, at: dt.datetime) -> None:
    """The applicant's Form 04 message went out: a signed apology becomes sent. Called by the
    notifications outbox after delivery (``settings.NOTIFICATIONS_ON_SENT``)."""
    if notification.template_key != TemplateKey.APOLOGY or not notification.dossier_id:
        return
    Apology.objects.filter(dossier_id=notification.dossier_id, status=ApologyStatus.SIGNED).update(
        status=ApologyStatus.SENT, sent_at=at
    )
