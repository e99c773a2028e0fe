"""The e-invoice provider interface and its registry (like billing.gateways.base).

A provider (a T-VAN or an e-invoice service organisation) takes the seller's signed XML, passes
it to the tax authority and answers with the tax authority's code (MCCQT), at once or later
(``status``). Submitting the same invoice again (same key) must answer the first result.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib import import_module
from typing import ClassVar, TypeVar

ACCEPTED = "accepted"
PENDING = "pending"
REJECTED = "rejected"


class ProviderError(Exception):
    """The provider could not be reached or failed; the submission is retried later."""


@dataclass(frozen=True)
class ProviderAnswer:
    status: str  # accepted, pending, rejected
    remote_id: str = ""
    tax_authority_code: str = ""
    authority_xml: str = ""
    errors: tuple[str, ...] = ()


class EInvoiceProvider(ABC):
    code: ClassVar[str]

    @abstractmethod
    def submit(self, *, key: str, signed_xml: bytes) -> ProviderAnswer:
        """Send one signed invoice; ``key`` (form, series and number) deduplicates retries."""

    @abstractmethod
    def status(self, *, remote_id: str) -> ProviderAnswer:
        """Where a submitted invoice stands with the tax authority."""


P = TypeVar("P", bound=type[EInvoiceProvider])
_REGISTRY: dict[str, type[EInvoiceProvider]] = {}
_PLUGINS = ("billing.einvoice.providers.tvan",)


def register(cls: P) -> P:
    if cls.code in _REGISTRY and _REGISTRY[cls.code] is not cls:
        raise ValueError(f"e-invoice provider {cls.code!r} is already registered")
    _REGISTRY[cls.code] = cls
    return cls


def provider_get(code: str) -> EInvoiceProvider:
    for module in _PLUGINS:
        import_module(module)
    try:
        return _REGISTRY[code]()
    except KeyError:
        raise ProviderError(f"unknown e-invoice provider {code!r}") from None
