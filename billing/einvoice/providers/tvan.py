"""A T-VAN style e-invoice provider spoken to as JSON over HTTPS.

``POST {EINVOICE_PROVIDER_URL}/v1/invoices`` with ``Authorization: Bearer <token>``,
``Idempotency-Key: <form><series>-<number>`` and ``{"xml": "<base64 of the signed XML>"}``
→ 200/201 ``{"id", "status": "accepted"|"pending", "tax_authority_code", "xml"}`` or 422
``{"status": "rejected", "errors": [...]}``; ``GET /v1/invoices/<id>`` → the same shape.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings

from billing.einvoice.providers.base import (
    REJECTED,
    EInvoiceProvider,
    ProviderAnswer,
    ProviderError,
    register,
)

TIMEOUT = 20


def _answer(payload: Any) -> ProviderAnswer:
    if not isinstance(payload, dict) or payload.get("status") not in (
        "accepted", "pending", REJECTED
    ):  # fmt: skip
        raise ProviderError("the provider answered something else than an invoice status")
    xml = payload.get("xml") or ""
    try:
        authority_xml = base64.b64decode(xml).decode() if xml else ""
    except ValueError:
        raise ProviderError("the provider's XML is not base64") from None
    errors = payload.get("errors") or []
    return ProviderAnswer(
        status=payload["status"],
        remote_id=str(payload.get("id") or ""),
        tax_authority_code=str(payload.get("tax_authority_code") or ""),
        authority_xml=authority_xml,
        errors=tuple(str(e) for e in errors) if isinstance(errors, list) else (str(errors),),
    )


@register
class TvanProvider(EInvoiceProvider):
    code = "tvan"

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None, key: str = ""
    ) -> ProviderAnswer:
        base = str(settings.EINVOICE_PROVIDER_URL).rstrip("/")
        if not base:
            raise ProviderError("no e-invoice provider configured (EINVOICE_PROVIDER_URL)")
        headers = {
            "Authorization": f"Bearer {settings.EINVOICE_PROVIDER_TOKEN}",
            "Accept": "application/json",
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        request = urllib.request.Request(  # noqa: S310 - the URL comes from our settings
            base + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                return _answer(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            text = exc.read()
            if exc.code == 422:
                try:
                    return _answer(json.loads(text))
                except ValueError:
                    pass
            raise ProviderError(f"the provider answered HTTP {exc.code}") from None
        except (OSError, ValueError) as exc:
            raise ProviderError(f"the provider cannot be reached: {exc}") from None

    def submit(self, *, key: str, signed_xml: bytes) -> ProviderAnswer:
        return self._request(
            "POST", "/v1/invoices", {"xml": base64.b64encode(signed_xml).decode()}, key=key
        )

    def status(self, *, remote_id: str) -> ProviderAnswer:
        return self._request("GET", f"/v1/invoices/{remote_id}")
