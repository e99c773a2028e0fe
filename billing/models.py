"""Billing, public schema: usage ledger and rollups, plans and prices, billing accounts,
subscriptions, invoices, credit notes, payments and the billing audit trail."""

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


class Plan(models.Model):
    """A subscription plan offered to one kind of agency; its prices are versioned."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    agency_kind = models.CharField(_("agency kind"), max_length=20, choices=AgencyKind.choices)
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


class Invoice(models.Model):
    """A monthly invoice of a billing account. Immutable once issued (enforced in the database)."""

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
    total = models.BigIntegerField(_("total (VND)"), default=0)
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
                condition=~models.Q(status="void"),
                name="invoice_one_per_account_period",
            )
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="invoice_status_due")]

    def __str__(self) -> str:
        return self.number or f"draft {self.billing_account_id} {self.period_start}"

    @property
    def balance(self) -> int:
        return self.total - self.amount_paid - self.amount_credited


class LineKind(models.TextChoices):
    SUBSCRIPTION = "subscription", _("Monthly fee")
    USAGE = "usage", _("Usage")


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
    amount = models.BigIntegerField()
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
    """A correction to an issued invoice: reduces what is owed, never rewrites the invoice."""

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
