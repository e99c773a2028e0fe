"""What each recorded action is called in the trail's pages (English msgids, shown in the
reader's language). An action without a label shows as its code."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

VIEWED = "dossier.viewed"
DOCUMENT_VIEWED = "dossier.document_viewed"

ACTION_LABELS: dict[str, Promise] = {
    VIEWED: _("Opened the dossier"),
    DOCUMENT_VIEWED: _("Opened a document of the dossier"),
    "agency.dossier_code_pattern_changed": _("Changed the dossier code pattern"),
    "api_key.issued": _("Issued an API key"),
    "api_key.revoked": _("Revoked an API key"),
    "apology.signed": _("Signed a letter of apology (Form 04)"),
    "branding.updated": _("Changed the portal's appearance"),
    "calendar.override_removed": _("Removed a working-calendar change"),
    "calendar.override_set": _("Changed the working calendar"),
    "desk.refused": _("Refused a dossier at reception (Form 03)"),
    "desk.step_assignments_set": _("Assigned the officers of a processing step"),
    "fees.settings_updated": _("Changed how citizens pay fees"),
    "fees.statement_imported": _("Imported a bank statement of fees"),
    "fees.national_file_imported": _("Imported a national payment platform reconciliation file"),
    "fees.line_dismissed": _("Set aside a fee reconciliation line"),
    "exchange.accepted": _("Accepted a transferred dossier"),
    "exchange.refused": _("Refused a transferred dossier"),
    "exchange.returned": _("Returned a transferred dossier"),
    "notification_template.reset": _("Reset a notification template"),
    "notification_template.saved": _("Changed a notification template"),
    "procedure.adopted": _("Adopted a procedure"),
    "procedure.catalog_accepted": _("Accepted a national catalog update"),
    "procedure.configured": _("Configured a procedure"),
    "procedure.published": _("Published a procedure"),
    "procedure.unpublished": _("Unpublished a procedure"),
    "results.rated": _("Rated the service"),
    "staff.deactivate": _("Removed a member of staff"),
    "staff.invite": _("Invited a member of staff"),
    "staff.roles": _("Changed a member of staff's roles"),
    "dossier.received": _("Dossier received"),
    "dossier.refused": _("Dossier refused at reception"),
    "dossier.claimed": _("Dossier taken"),
    "dossier.assigned": _("Dossier assigned"),
    "dossier.forwarded": _("Dossier forwarded"),
    "dossier.sent_back": _("Dossier sent back"),
    "dossier.supplement_requested": _("Supplement requested"),
    "dossier.supplemented": _("Dossier supplemented"),
    "dossier.result_attached": _("Result attached"),
    "dossier.approved": _("Approved and result issued"),
    "dossier.rejected": _("Not granted"),
    "dossier.returned": _("Result returned"),
    "dossier.stopped": _("Processing stopped"),
    "dossier.withdrawn": _("Dossier withdrawn"),
    "dossier.transferred": _("Dossier transferred to another agency"),
    "dossier.transfer_refused": _("Transfer refused by the other agency"),
    "dossier.transfer_returned": _("Dossier returned by the other agency"),
    "dossier.fee_paid_online": _("Fee paid online"),
    "dossier.apology": _("Letter of apology sent"),
}

KIND_LABELS: dict[str, Promise] = {
    "audit": _("Administration"),
    "dossier": _("Dossier"),
    "agency": _("Agency"),
    "application": _("Application"),
    "billing": _("Billing"),
    "account": _("Account"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else kind
