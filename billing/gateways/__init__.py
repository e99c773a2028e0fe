"""Payment gateways behind one interface: a registry of plugins (Stripe, bank transfer, and for
citizens' fees the National Public Service Portal's payment platform).

Our ledger and invoices are the source of truth; a gateway mirrors them to where the payer pays.
``gateway_for(account)`` gives the plugin an account pays through; ``gateway_get(code)`` by code.
"""

from __future__ import annotations

from billing.gateways.base import GatewayError, PaymentGateway, gateway_for, gateway_get, register

__all__ = ["GatewayError", "PaymentGateway", "gateway_for", "gateway_get", "register"]
