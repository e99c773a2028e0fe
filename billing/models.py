"""Billing, public schema: usage ledger and rollups, plans and prices, billing accounts,
subscriptions, invoices (legal e-invoices: VAT, form and series, tax authority code; replacement
and adjustment invoices), credit notes (history), payments, bank statement lines and the billing
audit trail."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import AgencyKind


class Metric(models.TextChoices):
    DOSSIER_RECEIVED = "dossier_received", _("Dossier received")
    DOSSIER_ONLINE = "dossier_online", _("Dossier received online")
    SMS_SENT = "sms_sent", _("SMS sent")
    STORAGE_GB_DAY = "storage_gb_day", _("Storage (GB-day)")
    STAFF_SEAT_DAY = "staff_seat_day", _("Active staff seat (day)")


class UsageEventQuerySet(models.QuerySet["UsageEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("the usage ledger is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the usage ledger is append-only")


class UsageEvent(models.Model):
    """A billable event. ``idempotency_key`` makes a replay a no-op."""

    agency = models.ForeignKey("tenants.Agency", on_delete=models.PROTECT, related_name="+")
    metric = models.CharField(max_length=30, choices=Metric.choices)
    quantity = models.DecimalField(max_digits=14, decimal_places=4, default=1)
    occurred_at = models.DateTimeField(db_index=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UsageEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("usage event")
        verbose_name_plural = _("usage events")
        indexes = [models.Index(fields=["agency", "metric", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.metric} {self.quantity}"


class UsageDaily(models.Model):
    """Daily rollup of the ledger per agency and metric, recomputed from the ledger."""

    agency = models.ForeignKey("tenants.Agency", on_delete=models.PROTECT, related_name="+")
    metric = models.CharField(max_length=30, choices=Metric.choices)
    day = models.DateField()
    quantity = models.DecimalField(max_digits=16, decimal_places=4)

    class Meta:
        verbose_name = _("daily usage")
        verbose_name_plural = _("daily usage")
        constraints = [
            models.UniqueConstraint(fields=["agency", "metric", "day"], name="usage_daily_unique")
        ]
        indexes = [models.Index(fields=["day", "agency"], name="usage_daily_day")]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.metric} {self.day}: {self.quantity}"


class VatRate(models.TextChoices):
    """VAT rates of an invoice line (Decree 123/2020, Decision 1450/QĐ-TCT ``TSuat``)."""

    TEN = "10", "10%"
    EIGHT = "8", "8%"
    FIVE = "5", "5%"
    ZERO = "0", "0%"
    KCT = "KCT", _("Not subject to VAT (KCT)")


# Renting the one-stop-shop system to an agency is a service taxed at the standard rate unless
# the provider's accountant sets a plan as not subject to VAT (KCT).
DEFAULT_VAT_RATE = VatRate.TEN


def vat_percent(rate: str) -> int:
    """The percentage of a rate (0 for KCT and 0%)."""
    return int(rate) if rate.isdigit() else 0


class Plan(models.Model):
    """A subscription plan offered to one kind of agency; its prices are versioned."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    agency_kind = models.CharField(_("agency kind"), max_length=20, choices=AgencyKind.choices)
    vat_rate = models.CharField(
        _("VAT rate"), max_length=4, choices=VatRate.choices, default=DEFAULT_VAT_RATE
    )
    is_default = models.BooleanField(_("default for this kind"), default=False)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["agency_kind", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency_kind"],
                condition=models.Q(is_default=True),
                name="plan_one_default_per_kind",
            )
        ]

    def __str__(self) -> str:
        return self.name


class PlanPrice(models.Model):
    """The prices of a plan from a month on. A change starts with the next period."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="prices")
    effective_from = models.DateField(_("effective from"))
    monthly_fee = models.PositiveBigIntegerField(_("monthly fee (VND)"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_email = models.EmailField(blank=True)

    class Meta:
        verbose_name = _("plan price")
        verbose_name_plural = _("plan prices")
        ordering = ["plan", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "effective_from"], name="plan_price_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} from {self.effective_from}"


class PlanRate(models.Model):
    """Included quantity and overage unit price of one metric in a plan price."""

    price = models.ForeignKey(PlanPrice, on_delete=models.CASCADE, related_name="rates")
    metric = models.CharField(_("metric"), max_length=30, choices=Metric.choices)
    included = models.DecimalField(_("included per month"), max_digits=14, decimal_places=4)
    unit_price = models.PositiveBigIntegerField(_("overage price per unit (VND)"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["price", "metric"], name="plan_rate_unique")]

    def __str__(self) -> str:
        return f"{self.metric}: {self.included} incl., {self.unit_price} VND"


class Gateway(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    STRIPE = "stripe", _("Stripe")


class AccountStatus(models.TextChoices):
    GOOD = "good", _("In good standing")
    PAST_DUE = "past_due", _("Past due")
    RESTRICTED = "restricted", _("Restricted")


class BillingAccount(models.Model):
    """Whoever pays: often one people's committee for all agencies of a province."""

    name = models.CharField(_("payer name"), max_length=200)
    tax_code = models.CharField(_("tax code"), max_length=14, unique=True)
    address = models.CharField(_("address"), max_length=300)
    email = models.EmailField(_("billing e-mail"))
    gateway = models.CharField(
        _("payment method"), max_length=20, choices=Gateway.choices, default=Gateway.BANK_TRANSFER
    )
    stripe_customer_id = models.CharField(max_length=60, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=AccountStatus.choices, default=AccountStatus.GOOD
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("billing account")
        verbose_name_plural = _("billing accounts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    """An agency on a plan, paid by a billing account, over a range of days."""

    agency = models.ForeignKey(
        "tenants.Agency", on_delete=models.PROTECT, related_name="subscriptions"
    )
    billing_account = models.ForeignKey(
        BillingAccount, on_delete=models.PROTECT, related_name="subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency"],
                condition=models.Q(ends_on__isnull=True),
                name="subscription_one_open_per_agency",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="subscription_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["billing_account", "starts_on"])]

    def __str__(self) -> str:
        return f"{self.agency_id} on {self.plan_id} from {self.starts_on}"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")


class InvoiceKind(models.TextChoices):
    ORIGINAL = "original", _("Invoice")
    REPLACEMENT = "replacement", _("Replacement invoice")
    ADJUSTMENT = "adjustment", _("Adjustment invoice")


class Adjustment(models.TextChoices):
    INCREASE = "increase", _("Increase")
    DECREASE = "decrease", _("Decrease")


class EInvoiceStatus(models.TextChoices):
    """Where the legal e-invoice stands with the tax authority (through the e-invoice provider)."""

    NOT_SENT = "", _("Not sent")
    PENDING = "pending", _("To send")
    SENT = "sent", _("Sent, waiting for the tax authority's code")
    ACCEPTED = "accepted", _("Code granted by the tax authority")
    REJECTED = "rejected", _("Refused by the tax authority")


class Invoice(models.Model):
    """A monthly invoice of a billing account, and a legal e-invoice once issued.

    Immutable once issued (enforced in the database): its legal content (number, series, seller,
    buyer, VAT, totals, words) never changes; the tax authority's code is written once. Errors are
    corrected by a replacement invoice (the original becomes void) or an adjustment invoice (an
    increase to pay, or a decrease of what is owed), each referencing the original.

    ``total`` is what the payer pays: ``subtotal`` (before VAT) plus ``vat_amount``; negative on a
    decrease adjustment.
    """

    # NULL until issued: drafts have no number, and NULLs do not collide under UNIQUE.
    number = models.CharField(_("invoice number"), max_length=20, unique=True, null=True)  # noqa: DJ001
    billing_account = models.ForeignKey(
        BillingAccount, on_delete=models.PROTECT, related_name="invoices"
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    status = models.CharField(
        _("status"), max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.ORIGINAL
    )
    adjustment = models.CharField(
        _("adjustment"), max_length=8, choices=Adjustment.choices, blank=True
    )
    original = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects invoice"),
    )
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    subtotal = models.BigIntegerField(_("amount before VAT (VND)"), default=0)
    vat_amount = models.BigIntegerField(_("VAT (VND)"), default=0)
    total = models.BigIntegerField(_("total (VND)"), default=0)
    amount_in_words = models.CharField(_("amount in words"), max_length=400, blank=True)
    # The legal e-invoice: form symbol (1: VAT invoice), series (C26TAA), 8-digit number.
    form_symbol = models.CharField(_("form symbol"), max_length=1, blank=True)
    series = models.CharField(_("series symbol"), max_length=6, blank=True)
    legal_number = models.PositiveIntegerField(_("e-invoice number"), null=True, blank=True)
    seller_name = models.CharField(max_length=200, blank=True)
    seller_tax_code = models.CharField(max_length=14, blank=True)
    seller_address = models.CharField(max_length=300, blank=True)
    seller_bank_account = models.CharField(max_length=30, blank=True)
    seller_bank_name = models.CharField(max_length=200, blank=True)
    tax_authority_code = models.CharField(_("tax authority code"), max_length=40, blank=True)
    einvoice_status = models.CharField(
        _("e-invoice"), max_length=10, choices=EInvoiceStatus.choices, blank=True
    )
    amount_paid = models.BigIntegerField(_("paid (VND)"), default=0)
    amount_credited = models.BigIntegerField(_("credited (VND)"), default=0)
    payer_name = models.CharField(max_length=200, blank=True)
    payer_tax_code = models.CharField(max_length=14, blank=True)
    payer_address = models.CharField(max_length=300, blank=True)
    payer_email = models.EmailField(blank=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    due_on = models.DateField(_("due"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    stripe_invoice_id = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-period_start", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["billing_account", "period_start"],
                condition=~models.Q(status="void") & ~models.Q(kind="adjustment"),
                name="invoice_one_per_account_period",
            ),
            models.UniqueConstraint(
                fields=["form_symbol", "series", "legal_number"],
                condition=models.Q(legal_number__isnull=False),
                name="invoice_legal_number_once",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_on"], name="invoice_status_due"),
            models.Index(fields=["einvoice_status"], name="invoice_einvoice_status"),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {self.billing_account_id} {self.period_start}"

    @property
    def balance(self) -> int:
        return self.total - self.amount_paid - self.amount_credited

    @property
    def legal_number_display(self) -> str:
        """The 8-digit number printed on the e-invoice (SHDon)."""
        return f"{self.legal_number:08d}" if self.legal_number is not None else ""

    @property
    def is_decrease(self) -> bool:
        return self.kind == InvoiceKind.ADJUSTMENT and self.adjustment == Adjustment.DECREASE


class LineKind(models.TextChoices):
    SUBSCRIPTION = "subscription", _("Monthly fee")
    USAGE = "usage", _("Usage")
    ADJUSTMENT = "adjustment", _("Adjustment")


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    agency = models.ForeignKey("tenants.Agency", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=LineKind.choices)
    metric = models.CharField(max_length=30, choices=Metric.choices, blank=True)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=16, decimal_places=4, default=0)
    included = models.DecimalField(max_digits=16, decimal_places=4, default=0)
    billable = models.DecimalField(max_digits=16, decimal_places=4, default=0)
    unit_price = models.BigIntegerField(default=0)
    amount = models.BigIntegerField()  # before VAT
    # '' on lines of invoices issued before VAT was recorded on them.
    vat_rate = models.CharField(
        max_length=4, choices=VatRate.choices, default=DEFAULT_VAT_RATE, blank=True
    )
    active_days = models.PositiveSmallIntegerField(default=0)
    period_days = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position")
        ]

    def __str__(self) -> str:
        return self.description


class CreditNote(models.Model):
    """A correction to an issued invoice: reduces what is owed, never rewrites the invoice.

    History only: corrections are now replacement or adjustment invoices (legal e-invoices)."""

    number = models.CharField(_("credit note number"), max_length=20, unique=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    amount = models.PositiveBigIntegerField(_("amount (VND)"))
    reason = models.TextField(_("reason"))
    issued_at = models.DateTimeField(_("issued"))
    issued_by_email = models.EmailField(blank=True)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return self.number


class Payment(models.Model):
    """Money received against an invoice (bank transfer recorded by staff, or a gateway).

    ``amount`` is all the money that arrived, even beyond what the invoice owed: the excess is an
    ``Overpayment`` of this payment. A payment with ``carried_from`` is no new money: it is an
    overpayment of an earlier invoice, credited to this one.
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    gateway = models.CharField(max_length=20, choices=Gateway.choices)
    amount = models.PositiveBigIntegerField(_("amount (VND)"))
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("reference"), max_length=120)
    recorded_by_email = models.EmailField(blank=True)
    carried_from = models.ForeignKey(
        "Overpayment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("credit carried from"),
    )
    statement_line = models.ForeignKey(
        "BankStatementLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("bank statement line"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "reference"], name="payment_reference_once")
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.amount}"


class OverpaymentStatus(models.TextChoices):
    OPEN = "open", _("To resolve")
    REFUNDED = "refunded", _("Refunded")
    CREDIT = "credit", _("Credit for the next invoice")
    APPLIED = "applied", _("Credited to a later invoice")


class Overpayment(models.Model):
    """Money that arrived beyond what an invoice owed (paid twice, or too much).

    Never dropped: kept and flagged until staff resolve it, by recording the refund they made or
    by crediting it to the payer's next invoices (``applied`` so far).
    """

    billing_account = models.ForeignKey(
        BillingAccount, on_delete=models.PROTECT, related_name="overpayments"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="overpayments")
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="overpayment")
    amount = models.PositiveBigIntegerField(_("excess (VND)"))
    applied = models.PositiveBigIntegerField(_("credited so far (VND)"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=OverpaymentStatus.choices,
        default=OverpaymentStatus.OPEN,
    )  # fmt: skip
    resolution_note = models.TextField(_("note"), blank=True)
    resolved_by_email = models.EmailField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("overpayment")
        verbose_name_plural = _("overpayments")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "billing_account"], name="overpayment_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(applied__lte=models.F("amount")),
                name="overpayment_applied_within_amount",
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.amount} ({self.status})"

    @property
    def remaining(self) -> int:
        return self.amount - self.applied


class NumberCounter(models.Model):
    """Gapless yearly sequences for invoice and credit-note numbers."""

    scope = models.CharField(max_length=30, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.scope}: {self.last}"


class BillingEvent(models.Model):
    """Append-only audit of billing changes (prices, accounts, invoices, payments, dunning)."""

    billing_account = models.ForeignKey(
        BillingAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    event = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)
    actor_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.event


# --- Gateways: the Stripe mirror, the meter-event outbox and received webhooks -----------------


class GatewayObject(models.Model):
    """Which remote object (a Stripe product, price, meter, invoice) mirrors one of ours.

    ``state`` and ``state_at`` remember the newest remote state we applied, so an event that
    arrives late (older ``created``, or a lower rank in the object's lifecycle) never regresses it.
    """

    gateway = models.CharField(max_length=20, choices=Gateway.choices)
    kind = models.CharField(max_length=30)
    key = models.CharField(max_length=120)
    remote_id = models.CharField(max_length=120)
    state = models.CharField(max_length=30, blank=True)
    state_at = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gateway", "kind", "key"], name="gateway_object_key"),
            models.UniqueConstraint(
                fields=["gateway", "kind", "remote_id"], name="gateway_object_remote"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.kind} {self.key} → {self.remote_id}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, retried later")
    VERIFY = "verify", _("To check against Stripe's summary")
    ATTENTION = "attention", _("Needs attention")


# Every status but "sent": filter on these (the index) rather than exclude the many sent rows.
UNSENT = (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.VERIFY, OutboxStatus.ATTENTION)


class MeterEventOutbox(models.Model):
    """One ledger row to report to Stripe Billing Meters, keyed by the ledger's idempotency key.

    The meter event's ``identifier`` is the key (with ``~<generation>`` once a row had to be sent
    afresh): Stripe ignores a second event with the same identifier within 24 hours, so a retry
    inside that window never counts twice. ``first_attempt_at`` is when the current identifier
    was first sent (written before sending); a row not confirmed sent within the window is checked
    against Stripe's event summaries (``verify``) before anything is sent again.
    A failed row is retried with capped exponential backoff (``next_attempt_at``), never given up.
    """

    usage_event = models.OneToOneField(UsageEvent, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=120, unique=True)
    billing_account = models.ForeignKey(BillingAccount, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("tenants.Agency", on_delete=models.PROTECT, related_name="+")
    metric = models.CharField(max_length=30, choices=Metric.choices)
    quantity = models.DecimalField(max_digits=14, decimal_places=4)
    occurred_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_value = models.BigIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    generation = models.PositiveIntegerField(default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # What a check against Stripe's summary does with a row Stripe did not count: send it afresh
    # (a lost answer, a requeue), or leave it for staff (Stripe rejected it: an error report).
    resend_if_missing = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "id"], name="meter_outbox_status")]

    def __str__(self) -> str:
        return f"{self.idempotency_key} ({self.status})"

    @property
    def identifier(self) -> str:
        """The meter event's identifier at Stripe for the current generation."""
        if self.generation == 0:
            return self.idempotency_key
        return f"{self.idempotency_key}~{self.generation}"


class WebhookStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", _("Failed")
    IGNORED = "ignored", _("Ignored")
    FLAGGED = "flagged", _("Flagged for review")


class WebhookEvent(models.Model):
    """A verified webhook event from a gateway, stored once (unique event id), processed later."""

    gateway = models.CharField(max_length=20, choices=Gateway.choices, default=Gateway.STRIPE)
    event_id = models.CharField(max_length=120)
    event_type = models.CharField(max_length=80)
    created = models.BigIntegerField(help_text="The gateway's own event time (Unix seconds).")
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=WebhookStatus.choices, default=WebhookStatus.RECEIVED
    )
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    deliveries = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="webhook_event_once")
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="webhook_event_status")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.event_type} ({self.status})"


# --- Bank statements: imported files and webhook transfers, reconciled against invoices -------


class StatementSource(models.TextChoices):
    FILE = "file", _("Statement file")
    WEBHOOK = "webhook", _("Bank notification")


class StatementImport(models.Model):
    """One uploaded bank statement export (CSV or Excel)."""

    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    file_format = models.CharField(max_length=10)
    rows = models.PositiveIntegerField(default=0)
    new_lines = models.PositiveIntegerField(default=0)
    uploaded_by_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename


class LineStatus(models.TextChoices):
    APPLIED = "applied", _("Applied automatically")
    QUEUED = "queued", _("To resolve")
    RESOLVED = "resolved", _("Applied by staff")
    DISMISSED = "dismissed", _("Dismissed by staff")
    RECORDED = "recorded", _("Already recorded by hand")


class BankStatementLine(models.Model):
    """One credit on the provider's bank account, from a statement file or the bank's webhook.

    ``line_key`` makes it once: the bank's transaction id, or (an export without one) a hash of
    the line's content. Its payments point back to it, so nothing is ever applied twice.
    """

    line_key = models.CharField(max_length=80, unique=True)
    source = models.CharField(max_length=8, choices=StatementSource.choices)
    statement_import = models.ForeignKey(
        StatementImport, on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )
    bank_transaction_id = models.CharField(_("bank transaction"), max_length=80, blank=True)
    booked_on = models.DateField(_("booked on"))
    amount = models.PositiveBigIntegerField(_("amount (VND)"))
    memo = models.TextField(_("memo"), blank=True)
    status = models.CharField(max_length=10, choices=LineStatus.choices)
    reason = models.CharField(max_length=300, blank=True)
    invoice_numbers = models.JSONField(default=list, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_by_email = models.EmailField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-booked_on", "-id"]
        indexes = [models.Index(fields=["status", "booked_on"], name="statement_line_status")]

    def __str__(self) -> str:
        return f"{self.line_key}: {self.amount} ({self.status})"

    @property
    def reference(self) -> str:
        """The payment reference its transfers are recorded under."""
        return self.bank_transaction_id or f"SK-{self.line_key.removeprefix('hash:')[:16]}"


# --- E-invoices: what was sent to the e-invoice provider and what it answered ----------------


class EInvoiceTransmission(models.Model):
    """The signed XML of an invoice and its exchange with the e-invoice provider (retried until
    the tax authority grants its code or refuses)."""

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="transmission")
    provider = models.CharField(max_length=30)
    signed_xml = models.TextField()
    remote_id = models.CharField(max_length=80, blank=True)
    authority_xml = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.invoice_id} via {self.provider}"
