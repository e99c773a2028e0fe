"""The dossier lifecycle: the one writer of a dossier's status, its events, its hand-over
trail (Form 06) and its Form 04.

``table.TRANSITIONS`` declares it as data (status, action, who, next status, form, clock);
each action below is one public function over that table, in one transaction, and calls
its side effects explicitly (``effects``: usage ledger, statistics, notifications,
national-portal outbox, audit). ``LIFECYCLE.md`` beside the app shows the table as a
diagram. Apps above (desk, portal, api, exchange, register, results) call these functions;
none of them writes a dossier's status itself.

| action | function |
| --- | --- |
| receive | ``dossier_receive`` (through ``lifecycle.submit.dossier_submit``) |
| refuse | ``dossier_refuse`` (and ``desk_refuse``: Form 03 without a dossier) |
| claim, assign | ``dossier_claim``, ``dossier_assign`` |
| forward, send_back | ``dossier_forward``, ``dossier_send_back`` |
| supplement_request / _response | ``supplement_request``, ``supplement_receive`` |
| attach_result, approve, reject | ``result_attach``, ``dossier_approve``, ``dossier_reject`` |
| sign_result | ``result_sign`` (the leader's own certificate, documents.signing.Signer) |
| return_result | ``result_return`` |
| stop, withdraw | ``dossier_stop``, ``dossier_withdraw`` |
| transfer_out | ``transfer_begin``, then ``dossier_transfer_out`` |
| transfer_in | ``dossier_transfer_in`` |
| extend | ``apology_sign`` (Form 04) |
| pay_fee | ``dossier_fee_paid`` |
"""

from lifecycle.core import LockedDossier, clean_text
from lifecycle.extend import apology_sign
from lifecycle.intake import dossier_fee_paid, dossier_receive
from lifecycle.processing import (
    desk_refuse,
    dossier_approve,
    dossier_assign,
    dossier_claim,
    dossier_forward,
    dossier_refuse,
    dossier_reject,
    dossier_send_back,
    dossier_stop,
    dossier_withdraw,
    paused_working_days,
    result_attach,
    result_return,
    result_sign,
    supplement_receive,
    supplement_request,
)
from lifecycle.table import TRANSITIONS, Transition, transition
from lifecycle.transfer import dossier_transfer_in, dossier_transfer_out, transfer_begin

__all__ = [
    "TRANSITIONS",
    "LockedDossier",
    "Transition",
    "apology_sign",
    "clean_text",
    "desk_refuse",
    "dossier_approve",
    "dossier_assign",
    "dossier_claim",
    "dossier_fee_paid",
    "dossier_forward",
    "dossier_receive",
    "dossier_refuse",
    "dossier_reject",
    "dossier_send_back",
    "dossier_stop",
    "dossier_transfer_in",
    "dossier_transfer_out",
    "dossier_withdraw",
    "paused_working_days",
    "result_attach",
    "result_return",
    "result_sign",
    "supplement_receive",
    "supplement_request",
    "transfer_begin",
    "transition",
]
