"""E-invoice providers (tổ chức cung cấp dịch vụ hóa đơn điện tử) behind one interface."""

from __future__ import annotations

from billing.einvoice.providers.base import (
    EInvoiceProvider,
    ProviderAnswer,
    ProviderError,
    provider_get,
    register,
)

__all__ = ["EInvoiceProvider", "ProviderAnswer", "ProviderError", "provider_get", "register"]
