"""Dossiers and what belongs to them. Agency schema.

A dossier is pinned to the ``ProcedureVersion`` it was submitted under; its
documents are files in the agency's own storage; every status change is an
append-only ``DossierEvent``. ``Apology`` is Form 04 (apology and new appointment), prepared
by the daily deadline job (desk/deadlines.py) and signed by a leader (``lifecycle``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.fields import public_user_fk

# The dossier's processing records (moved from the desk app; see models/process.py).
from dossiers.models.process import (
    Decision as Decision,
)
from dossiers.models.process import (
    DossierProcess as DossierProcess,
)
from dossiers.models.process import (
    HandOver as HandOver,
)
from dossiers.models.process import (
    HandOverAction as HandOverAction,
)
from dossiers.models.process import (
    HandOverQuerySet as HandOverQuerySet,
)
from dossiers.models.process import (
    Outcome as Outcome,
)
from dossiers.models.process import (
    Refusal as Refusal,
)
from dossiers.models.process import (
    ResultDocument as ResultDocument,
)
from dossiers.models.process import (
    ReturnMethod as ReturnMethod,
)
from dossiers.models.process import (
    StepAssignment as StepAssignment,
)
from dossiers.models.process import (
    StopNotice as StopNotice,
)
from dossiers.models.process import (
    SupplementRequest as SupplementRequest,
)


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    DESK = "desk", _("At the one-stop desk")
    POST = "post", _("By post")
    NATIONAL_PORTAL = "national_portal", _("National public service portal")


class DossierStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_PROCESSING = "in_processing", _("In processing")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("Waiting for supplement")
    TRANSFERRED = "transferred", _("Transferred to another agency")
    RESULT_READY = "result_ready", _("Result ready")
    REJECTED = "rejected", _("Not granted")
    RETURNED = "returned", _("Result returned")
    REFUSED = "refused", _("Refused at reception")
    STOPPED = "stopped", _("Processing stopped")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    # Left for another agency in a reorganisation (reorg split): that agency goes on with it.
    MOVED = "moved", _("Moved to another agency")


OPEN_STATUSES = (
    DossierStatus.RECEIVED,
    DossierStatus.IN_PROCESSING,
    DossierStatus.SUPPLEMENT_REQUESTED,
    DossierStatus.TRANSFERRED,
)


class Dossier(models.Model):
    code = models.CharField(_("dossier code"), max_length=40, unique=True)
    lookup_secret = models.CharField(_("lookup secret"), max_length=12)
    procedure = models.ForeignKey(
        "procedures.AgencyProcedure", on_delete=models.PROTECT, related_name="dossiers"
    )
    procedure_version = models.ForeignKey(
        "procedures.ProcedureVersion", on_delete=models.PROTECT, related_name="dossiers"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # Digest of the content an external system delivered under external_id: a repeat
    # with the same content is the same dossier, with other content a conflict.
    external_fingerprint = models.CharField(max_length=64, blank=True, default="")
    applicant = public_user_fk(verbose_name=_("applicant account"))
    applicant_name = models.CharField(_("applicant"), max_length=200)
    applicant_id_number = models.CharField(_("personal ID number"), max_length=12, blank=True)
    applicant_phone = models.CharField(_("phone number"), max_length=20, blank=True)
    applicant_email = models.EmailField(_("e-mail address"), blank=True)
    applicant_address = models.CharField(_("address"), max_length=300, blank=True)
    form_data: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=24, choices=DossierStatus.choices, default=DossierStatus.RECEIVED
    )
    received_at = models.DateTimeField(_("received"))
    counting_start = models.DateField(_("deadline counted from"))
    due_date = models.DateField(_("result due"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    fee_amount = models.PositiveBigIntegerField(_("fee (VND)"), default=0)
    fee_paid = models.BooleanField(_("fee paid"), default=False)
    received_by = public_user_fk(verbose_name=_("received by"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_date"], name="dossier_status_due"),
            models.Index(fields=["applicant", "-received_at"], name="dossier_applicant"),
            models.Index(fields=["-received_at"], name="dossier_received"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def document_upload_to(instance: Any, filename: str) -> str:
    # Stored names are ours (uuid + sniffed extension); the citizen's name is kept apart.
    return f"dossiers/{instance.storage_folder()}/{filename}"


class StoredFile(models.Model):
    """What we know of an uploaded file: the citizen's name for it, and what it really is."""

    component_position = models.PositiveSmallIntegerField()
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # Attached from the applicant's document store instead of uploaded: the entry's id
    # (docstore.StoredDocument, public schema; no foreign key across schemas). The file is
    # a copy, checked against the entry's sha256 when it was attached.
    from_store_document = models.BigIntegerField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["component_position", "id"]

    def __str__(self) -> str:
        return self.original_name


class DossierDocument(StoredFile):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="documents")
    component_name = models.CharField(max_length=500)
    file = models.FileField(upload_to=document_upload_to, max_length=300)

    class Meta(StoredFile.Meta):
        pass

    def storage_folder(self) -> str:
        # By row id, not code: files are written before the code is issued (the last
        # step of a submission, see dossier_submit).
        received = self.dossier.received_at
        return f"{received:%Y/%m}/{self.dossier_id}"


class DossierEvent(models.Model):
    """One step in a dossier's history: who did what, when (basis of Form 06). Append-only."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), db_index=True)
    actor = public_user_fk(verbose_name=_("by"))
    action = models.CharField(_("action"), max_length=40)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    note = models.TextField(_("note"), blank=True)
    # Language-neutral facts about the step (e.g. {"channel": "online"}), rendered in the
    # reader's language by ``summary``; ``note`` is free text someone wrote.
    details: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.dossier_id} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("dossier events are append-only")
        super().save(*args, **kwargs)

    @property
    def summary(self) -> str:
        """The details and the note, in the active language."""
        parts: list[str] = []
        channel = self.details.get("channel")
        if channel in Channel.values:
            parts.append(str(Channel(channel).label))
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)

    def get_to_status_display(self) -> str:
        """The status the event led to, in words (the applicant's history shows it)."""
        if self.to_status in DossierStatus.values:
            return str(DossierStatus(self.to_status).label)
        return self.action


class DossierCounter(models.Model):
    """The last sequence number issued for one code scope (e.g. one agency-day)."""

    scope = models.CharField(max_length=60, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.scope}: {self.last}"


class DossierDraft(models.Model):
    """An online submission in progress, saved to the applicant's account (any device)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    applicant = public_user_fk()
    procedure = models.ForeignKey(
        "procedures.AgencyProcedure", on_delete=models.CASCADE, related_name="drafts"
    )
    procedure_version = models.ForeignKey(
        "procedures.ProcedureVersion", on_delete=models.CASCADE, related_name="drafts"
    )
    form_data: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    applicant_data: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["applicant", "-updated_at"], name="draft_applicant")]

    def __str__(self) -> str:
        return f"draft {self.id}"


def draft_upload_to(instance: Any, filename: str) -> str:
    return f"drafts/{instance.draft_id}/{filename}"


class DraftDocument(StoredFile):
    draft = models.ForeignKey(DossierDraft, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to=draft_upload_to, max_length=300)

    class Meta(StoredFile.Meta):
        pass


class FeePaymentStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting payment")
    PAID = "paid", _("Paid")
    FLAGGED = "flagged", _("Flagged for review")


class FeePayment(models.Model):
    """An online payment of a dossier's fee through a payment gateway (Stripe Checkout; the
    national payment platform), in VND.

    Lives in the agency's schema with its dossier; ``remote_id`` is the gateway's session id
    (Stripe) or our order id (the national platform: ``<schema>:<dossier code>:<attempt>``).
    """

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="fee_payments")
    gateway = models.CharField(max_length=20)
    remote_id = models.CharField(max_length=120, unique=True)
    amount = models.PositiveBigIntegerField(_("amount (VND)"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=FeePaymentStatus.choices,
        default=FeePaymentStatus.PENDING,
    )
    url = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("fee payment")
        verbose_name_plural = _("fee payments")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.dossier_id} {self.remote_id} ({self.status})"


class ApologyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft, waiting for a leader's signature")
    SIGNED = "signed", _("Signed")
    SENT = "sent", _("Sent to the applicant")


class Apology(models.Model):
    """Form 04: the agency apologises that the result will be late and sets a new date."""

    dossier = models.OneToOneField(Dossier, on_delete=models.PROTECT, related_name="apology")
    reason = models.TextField(_("reason"))
    old_due_date = models.DateField(_("original due date"))
    new_due_date = models.DateField(_("new appointment date"))
    status = models.CharField(
        _("status"), max_length=10, choices=ApologyStatus.choices, default=ApologyStatus.DRAFT
    )
    prepared_at = models.DateTimeField(_("prepared"))
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    signed_by = public_user_fk(verbose_name=_("signed by"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        # Moved here from the notifications app without moving its rows.
        db_table = "notifications_apology"
        verbose_name = _("apology (Form 04)")
        verbose_name_plural = _("apologies (Form 04)")
        indexes = [
            models.Index(
                fields=["prepared_at"], name="apology_draft", condition=models.Q(status="draft")
            )
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.old_due_date} → {self.new_due_date}"


class FeeChannel(models.TextChoices):
    """The ways an agency may let citizens pay fees (it chooses which in its fee settings)."""

    NATIONAL = "dvcqg", _("National Public Service Portal payment platform")
    VIETQR = "vietqr", _("Bank transfer by VietQR")
    STRIPE = "stripe", _("Card (Stripe)")


def default_fee_channels() -> list[str]:
    return [FeeChannel.STRIPE.value]


class FeeSettings(models.Model):
    """How the agency collects citizens' fees: the channels it offers and its own bank account
    (the VietQR on fee pages pays into it). A singleton: always pk=1 (``lifecycle.fees``)."""

    channels: models.JSONField[list[str]] = models.JSONField(
        _("payment channels offered"), default=default_fee_channels, blank=True
    )
    bank_bin = models.CharField(_("bank (NAPAS BIN)"), max_length=6, blank=True)
    bank_account = models.CharField(_("account number"), max_length=19, blank=True)
    bank_account_name = models.CharField(_("account name"), max_length=50, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("fee settings")
        verbose_name_plural = _("fee settings")

    def __str__(self) -> str:
        return ", ".join(self.channels) or "-"

    @property
    def has_bank_account(self) -> bool:
        return bool(self.bank_bin and self.bank_account and self.bank_account_name)


class FeeLineSource(models.TextChoices):
    NATIONAL_FILE = "dvcqg_file", _("National payment platform reconciliation file")
    NATIONAL_CALLBACK = "dvcqg_callback", _("National payment platform notification")
    BANK_STATEMENT = "bank_statement", _("Bank statement")


class FeeLineStatus(models.TextChoices):
    APPLIED = "applied", _("Applied: the fee is marked paid")
    MATCHED = "matched", _("Already recorded")
    QUEUED = "queued", _("Waiting for staff")
    DISMISSED = "dismissed", _("Set aside by staff")


class FeeReconciliationLine(models.Model):
    """One line of a reconciliation source (the national platform's daily file, the agency's
    bank statement), stored once by ``key``: importing the same line again applies nothing.
    What cannot be matched with confidence waits (``queued``) with a message for staff."""

    source = models.CharField(_("source"), max_length=20, choices=FeeLineSource.choices)
    key = models.CharField(max_length=120)
    booked_on = models.DateField(_("date"))
    amount = models.BigIntegerField(_("amount (VND)"))
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    memo = models.TextField(_("memo"), blank=True)
    dossier = models.ForeignKey(
        Dossier, on_delete=models.PROTECT, null=True, blank=True, related_name="fee_lines"
    )
    status = models.CharField(_("status"), max_length=10, choices=FeeLineStatus.choices)
    message = models.TextField(_("message"), blank=True)
    filename = models.CharField(_("file"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by_email = models.EmailField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("fee reconciliation line")
        verbose_name_plural = _("fee reconciliation lines")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "key"], name="fee_line_once"),
        ]
        indexes = [
            models.Index(
                fields=["created_at"], name="fee_line_queued", condition=models.Q(status="queued")
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.key} ({self.status})"


class DossierAlias(models.Model):
    """A code a dossier was known by in another agency, before a merge brought it here.

    Written by ``lifecycle.move`` (agency merges); the public lookup falls back to it,
    so the code and secret on a receipt printed by the old agency still find the dossier.
    """

    code = models.CharField(_("former dossier code"), max_length=40, unique=True)
    source_agency = models.CharField(_("former agency"), max_length=50)
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="aliases")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("former dossier code")
        verbose_name_plural = _("former dossier codes")

    def __str__(self) -> str:
        return f"{self.code} → {self.dossier_id}"


class DossierMoved(models.Model):
    """A dossier that left this agency in a split (reorg) and now lives in another agency.

    The old agency keeps the dossier (its history is append-only) with the status ``moved``;
    this row names where it went, so the public lookup sends the holder of the code and the
    secret on a receipt this agency printed to the agency that has the dossier now.
    """

    code = models.CharField(_("dossier code"), max_length=40, unique=True)
    agency_slug = models.CharField(_("agency it moved to"), max_length=50)
    moved_at = models.DateTimeField(_("moved at"))

    class Meta:
        verbose_name = _("dossier moved to another agency")
        verbose_name_plural = _("dossiers moved to other agencies")

    def __str__(self) -> str:
        return f"{self.code} → {self.agency_slug}"
