"""The gateway interface and its registry.

A gateway is a plugin class registered under a ``Gateway`` code. Services call the interface,
never a provider's SDK: adding a rail (another bank, a card acquirer) is one new module.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, ClassVar, TypeVar

if TYPE_CHECKING:
    from billing.models import BillingAccount, Invoice, MeterEventOutbox, Subscription


class GatewayError(Exception):
    """The gateway refused or could not be reached; the operation may be retried."""


@dataclass(frozen=True)
class MeterPushResult:
    """Outcome of pushing one outbox row: the value the gateway was told, or an error."""

    outbox_id: int
    value: int | None
    error: str = ""


@dataclass(frozen=True)
class FeePayment:
    """A payment session for a citizen's fee: where to send the citizen, and the remote id."""

    remote_id: str
    url: str
    amount: int
    currency: str


@dataclass(frozen=True)
class FeeStatus:
    """What the gateway says about a fee payment when asked (``pending``, ``paid``, …)."""

    remote_id: str
    status: str
    amount: int
    currency: str
    transaction_no: str = ""
    paid_at: dt.datetime | None = None


class PaymentGateway(ABC):
    """What billing needs from a payment rail. Operations are idempotent: safe to call again."""

    code: ClassVar[str]

    @abstractmethod
    def customer_ensure(self, *, account: BillingAccount) -> str:
        """The payer's customer id at the gateway ('' if the rail has no customers)."""

    @abstractmethod
    def subscription_sync(self, *, subscription: Subscription) -> str:
        """Mirror an agency's subscription (plan fee and metered prices); its remote id or ''."""

    @abstractmethod
    def meter_events_push(self, *, rows: Sequence[MeterEventOutbox]) -> list[MeterPushResult]:
        """Report ledger rows as usage; each row's idempotency key deduplicates at the gateway."""

    def meter_event_summary(
        self, *, account: BillingAccount, metric: str, start: dt.datetime, end: dt.datetime
    ) -> int:
        """How much usage of ``metric`` the gateway counted for the payer in [start, end)."""
        raise GatewayError(f"the {self.code} gateway has no meters")

    @abstractmethod
    def invoice_send(self, *, invoice: Invoice) -> str:
        """Send an issued invoice to the payer (``send_invoice``, VND); its remote id or ''."""

    @abstractmethod
    def invoice_mark_paid_out_of_band(self, *, invoice: Invoice) -> None:
        """The invoice was paid elsewhere (a bank transfer): settle the remote copy."""

    @abstractmethod
    def fee_payment_create(
        self,
        *,
        amount: int,
        description: str,
        reference: str,
        success_url: str,
        cancel_url: str,
        metadata: dict[str, str],
        expires_at: dt.datetime | None = None,
        notify_url: str = "",
    ) -> FeePayment:
        """Start an online payment of a citizen's fee (VND), identified by our ``reference``;
        a rail that notifies server to server (an IPN) posts to ``notify_url``."""

    def fee_payment_status(self, *, remote_id: str) -> FeeStatus:
        """Ask the gateway where a fee payment stands."""
        raise GatewayError(f"the {self.code} gateway cannot be asked for a payment's status")


G = TypeVar("G", bound=type[PaymentGateway])
_REGISTRY: dict[str, type[PaymentGateway]] = {}
_PLUGINS = (
    "billing.gateways.stripe",
    "billing.gateways.bank_transfer",
    "billing.gateways.national_platform",
)


def register(cls: G) -> G:
    """Class decorator: make a gateway available under its ``code``."""
    if cls.code in _REGISTRY and _REGISTRY[cls.code] is not cls:
        raise ValueError(f"gateway {cls.code!r} is already registered")
    _REGISTRY[cls.code] = cls
    return cls


def _load_plugins() -> None:
    for module in _PLUGINS:
        import_module(module)


def gateway_get(code: str) -> PaymentGateway:
    _load_plugins()
    try:
        return _REGISTRY[code]()
    except KeyError:
        raise GatewayError(f"unknown payment gateway {code!r}") from None


def gateway_for(account: BillingAccount) -> PaymentGateway:
    return gateway_get(account.gateway)


class NoProviderBillingGateway(PaymentGateway):
    """A rail with no account at a payment provider (bank transfers, the national platform):
    no customers, subscriptions, meters or invoices to mirror there; usage is billed from the
    ledger alone. Subclasses say how fees are paid."""

    def customer_ensure(self, *, account: BillingAccount) -> str:
        return ""

    def subscription_sync(self, *, subscription: Subscription) -> str:
        return ""

    def meter_events_push(self, *, rows: Sequence[MeterEventOutbox]) -> list[MeterPushResult]:
        return [MeterPushResult(outbox_id=row.pk, value=None, error="no meters") for row in rows]

    def invoice_send(self, *, invoice: Invoice) -> str:
        return ""

    def invoice_mark_paid_out_of_band(self, *, invoice: Invoice) -> None:
        return None
