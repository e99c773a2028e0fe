"""What each official paper says: Forms 01–07 of Circular 03/2025/TT-VPCP and the agency's
result sheet, built from the same records the HTML printouts read (register.views,
portal.views.receipt). Read-only; the active agency's schema.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from documents.pdf import MM as mm
from documents.pdf import Sheet, Signature
from dossiers.models import Channel, Dossier, DossierStatus
from tenants.models import Agency
from tenants.units import provinces

if TYPE_CHECKING:
    from accounts.models import User

FORMS = ("01", "02", "03", "04", "05", "06")


def texts() -> dict[str, str]:
    """The words every sheet prints, in the active language."""
    return {
        "nation": _("SOCIALIST REPUBLIC OF VIET NAM"),
        "motto": _("Independence – Freedom – Happiness"),
        "date_line": _("%(place)s, day %(day)s month %(month)s year %(year)s"),
        "page": _("Page %(page)d"),
        "total": _("%(count)d dossiers. Printed at %(when)s."),
    }


def _who(user: User | None) -> str:
    if user is None:
        return ""
    return str(getattr(user, "full_name", "") or getattr(user, "email", "") or user)


def _place(agency: Agency) -> str:
    return provinces().get(agency.province_code, "") or agency.name


def _local(value: Any, fmt: str = "%H:%M, %d/%m/%Y") -> str:
    return timezone.localtime(value).strftime(fmt) if value else ""


def _day(value: Any) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _facts(dossier: Dossier) -> list[tuple[str, str]]:
    rows = [(_("Dossier code"), dossier.code), (_("Applicant"), dossier.applicant_name)]
    if dossier.applicant_address:
        rows.append((_("Address"), dossier.applicant_address))
    rows += [
        (_("Procedure"), f"{dossier.procedure.name} ({dossier.procedure.code})"),
        (
            _(
                "Received",
            ),
            f"{_local(dossier.received_at)} · {dossier.get_channel_display()}",
        ),
    ]
    return rows


def _base(agency: Agency, title: str, form_no: str = "") -> Sheet:
    return Sheet(
        agency=agency.name,
        agency_sub=_("ONE-STOP DESK"),
        title=title,
        form_no=form_no,
        place=_place(agency),
        issued=timezone.localdate(),
    )


def _verify_qr(url: str) -> list[tuple[str, str]]:
    """The verification QR code, when the agency's portal has a verification address."""
    return [(url, _("Scan to verify"))] if url else []


def _vnd(amount: int) -> str:
    # "đ", not "₫": DejaVu Serif has no glyph for U+20AB (it would print as a blank box).
    return f"{amount:,}".replace(",", ".") + " đ"


def receipt_sheet(*, agency: Agency, dossier: Dossier, tracking_url: str, verify_url: str) -> Sheet:
    """Form 01: receipt and appointment for the result."""
    sheet = _base(agency, _("RECEIPT AND APPOINTMENT FOR RESULT"), _("Form 01"))
    sheet.issued = timezone.localtime(dossier.received_at).date()
    fee = (
        f"{_vnd(dossier.fee_amount)} ({_('paid') if dossier.fee_paid else _('not paid yet')})"
        if dossier.fee_amount
        else _("No fee")
    )
    sheet.facts = [
        *_facts(dossier),
        (_("Result due"), _day(dossier.due_date)),
        (_("Fee"), fee),
        (_("Lookup code"), dossier.lookup_secret),
    ]
    docs = [f"{d.component_name}: {d.original_name}" for d in dossier.documents.all()]
    sheet.blocks = [_("Documents received") + ":", docs or ["—"]]
    sheet.signature = Signature(title=_("Receiving officer"), note=_("(digitally signed)"))
    sheet.qr = [(tracking_url, _("Scan to track this dossier")), *_verify_qr(verify_url)]
    sheet.footer = _(
        "Keep this receipt. Anyone holding the dossier code and the lookup code can see the "
        "progress of this dossier on the agency's portal, under “Track a dossier”."
    )
    sheet.metadata = {"subject": dossier.code}
    return sheet


def form_sheet(*, agency: Agency, dossier: Dossier, form: str, verify_url: str) -> Sheet:
    """Forms 02–06 of one dossier; LookupError when the dossier has no such form."""
    from dossiers import engine, selectors
    from dossiers.models import Apology, Refusal, StopNotice, SupplementRequest

    sheet: Sheet
    if form == "02":
        req = SupplementRequest.objects.filter(dossier=dossier).first()
        if req is None:
            raise LookupError(form)
        sheet = _base(agency, _("REQUEST TO SUPPLEMENT AND COMPLETE THE DOSSIER"), _("Form 02"))
        sheet.facts = _facts(dossier)
        sheet.blocks = [
            _(
                "On %(when)s the one-stop desk examined the dossier and asks the applicant to "
                "supplement and complete the following:"
            )
            % {"when": _day(timezone.localtime(req.requested_at))},
            list(req.items),
        ]
        if req.note:
            sheet.blocks.append(f"{_('Note')}: {req.note}")
        sheet.blocks.append(
            _(
                "This is the complete list of what is missing; nothing else will be asked for. "
                "The processing time is paused until the dossier is supplemented."
            )
        )
        sheet.signature = Signature(title=_("Issued by"), name=_who(req.requested_by))
    elif form == "03":
        refusal = Refusal.objects.filter(dossier=dossier).first()
        if refusal is None:
            raise LookupError(form)
        sheet = refusal_sheet(agency=agency, refusal=refusal, dossier=dossier)
    elif form == "04":
        apology = Apology.objects.filter(dossier=dossier).first()
        if apology is None:
            raise LookupError(form)
        sheet = _base(
            agency, _("LETTER OF APOLOGY AND NEW APPOINTMENT FOR THE RESULT"), _("Form 04")
        )
        sheet.facts = _facts(dossier)
        sheet.blocks = [
            _(
                "The result of this dossier was due on %(old)s and cannot be returned on time, "
                "for the following reason:"
            )
            % {"old": _day(apology.old_due_date)},
            apology.reason,
            _("The agency apologises for the delay and appoints %(new)s to return the result.")
            % {"new": _day(apology.new_due_date)},
        ]
        sheet.signature = Signature(
            title=_("Leader"),
            name=_who(apology.signed_by) if apology.signed_at else "",
            note=_("(digitally signed)") if apology.signed_at else _("not signed yet"),
        )
    elif form == "05":
        notice = StopNotice.objects.filter(dossier=dossier).first()
        if notice is None:
            raise LookupError(form)
        sheet = _base(agency, _("NOTICE OF STOPPING THE PROCESSING OF THE DOSSIER"), _("Form 05"))
        sheet.facts = _facts(dossier)
        sheet.blocks = [
            _("On %(when)s the agency stopped processing the dossier for the following reason:")
            % {"when": _day(timezone.localtime(notice.stopped_at))},
            notice.reason,
        ]
        sheet.signature = Signature(title=_("Decided by"), name=_who(notice.stopped_by))
    elif form == "06":
        sheet = _base(agency, _("DOSSIER PROCESSING CONTROL SHEET"), _("Form 06"))
        sheet.facts = [
            *_facts(dossier),
            (_("Result due"), _day(dossier.due_date)),
            (_("Status"), str(dossier.get_status_display())),
        ]
        del engine  # the steps are named on each hand-over already
        rows = [
            [
                _local(h.at, "%H:%M %d/%m/%Y"),
                str(h.get_action_display()),
                h.from_step_name,
                h.to_step_name,
                _who(h.actor),
                _who(getattr(h, "assignee", None)),
                h.note,
            ]
            for h in selectors.hand_overs(dossier)
        ]
        sheet.table = (
            [
                _("Time"),
                _("Action"),
                _("From step"),
                _("To step"),
                _("By"),
                _("Handed to"),
                _("Note"),
            ],
            rows,
        )
        width = 165  # mm inside the margins of a portrait A4
        sheet.table_widths = [w * mm for w in (24, 26, 24, 24, 22, 22, width - 142)]
    else:
        raise LookupError(form)
    sheet.qr = _verify_qr(verify_url)
    sheet.metadata = {"subject": dossier.code}
    return sheet


def refusal_sheet(*, agency: Agency, refusal: Any, dossier: Dossier | None) -> Sheet:
    """Form 03: refusal to receive (with or without a dossier)."""
    sheet = _base(agency, _("NOTICE OF REFUSAL TO RECEIVE THE DOSSIER"), _("Form 03"))
    if dossier is not None:
        sheet.facts = _facts(dossier)
    else:
        sheet.facts = [
            (_("Applicant"), refusal.applicant_name),
            (_("Procedure"), f"{refusal.procedure.name} ({refusal.procedure.code})"),
        ]
    sheet.blocks = [
        _("On %(when)s the one-stop desk refused to receive the dossier for the following reasons:")
        % {"when": _day(timezone.localtime(refusal.refused_at))},
        list(refusal.reasons),
    ]
    sheet.signature = Signature(title=_("Issued by"), name=_who(refusal.refused_by))
    return sheet


def result_sheet(
    *, agency: Agency, result: Any, original: bytes, verify_url: str, signer_title: str
) -> Sheet:
    """The agency's result, as issued: the decision's facts, the original's fingerprint, and
    (for a picture) the picture itself; a PDF original travels inside the signed file."""
    dossier = result.dossier
    sheet = _base(agency, _("RESULT OF THE ADMINISTRATIVE PROCEDURE"))
    sheet.agency_sub = ""
    sheet.facts = [
        (_("Document number"), result.number or "—"),
        *_facts(dossier),
        (_("Decision"), _("Approved")),
        (_("Issued"), _local(result.issued_at or timezone.now())),
        (_("Original file"), result.original_name),
        (_("SHA-256 of the original"), hashlib.sha256(original).hexdigest()),
    ]
    if result.content_type.startswith("image/"):
        sheet.image = original
    else:
        sheet.blocks = [
            _(
                "The document issued is attached to this file (“%(name)s”) and is covered by the "
                "digital signature below."
            )
            % {"name": result.original_name}
        ]
    sheet.signature = Signature(title=signer_title, note=_("(digitally signed)"))
    sheet.qr = _verify_qr(verify_url)
    sheet.metadata = {"subject": dossier.code, "title": result.number or dossier.code}
    return sheet


# -- Form 07 ------------------------------------------------------------------------------


def register_headers() -> list[str]:
    return [
        _("No."),
        _("Dossier code"),
        _("Received"),
        _("Channel"),
        _("Procedure"),
        _("Applicant"),
        _("Address"),
        _("Result due"),
        _("Status"),
        _("Completed"),
        _("Result returned"),
    ]


REGISTER_WIDTHS = (10, 34, 22, 16, 58, 32, 42, 18, 26, 22, 22)


def register_lines(rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[str]]:
    """Form 07's rows as text, from the register's value rows (``register.selectors.
    register_rows``, read by the caller with a server-side cursor: bounded memory)."""
    statuses = dict(DossierStatus.choices)
    channels = dict(Channel.choices)
    for number, values in enumerate(rows, start=1):
        (code, received, channel, _p_code, p_name, name, _id_no, address, due, status,
         completed, _outcome, returned, _fee, _paid) = values  # fmt: skip
        yield (
            str(number),
            code,
            _local(received, "%H:%M %d/%m/%Y"),
            str(channels.get(channel, channel)),
            p_name,
            name,
            address,
            _day(due),
            str(statuses.get(status, status)),
            _local(completed, "%d/%m/%Y"),
            _local(returned, "%d/%m/%Y"),
        )
