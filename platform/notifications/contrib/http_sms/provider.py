"""An SMS provider spoken to over HTTP + JSON (the fake in tests/fakes/sms_server.py in
development and tests; a real SMS brand-name gateway speaks the same shape behind a thin adapter).

``POST {SMS_API_BASE}/v1/messages`` with ``Authorization: Bearer {SMS_API_KEY}`` and
``Idempotency-Key``, body ``{"to": ..., "text": ..., "sender": ...}``; 2xx → ``{"id": ...}``.
A 4xx other than 408/429 is permanent; anything else (5xx, timeouts) is retried.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings

from notifications.channels import DeliveryError, PermanentDeliveryError

TIMEOUT = 10


class HttpSmsProvider:
    def send(self, *, to: str, text: str, idempotency_key: str) -> str:
        base = settings.SMS_API_BASE.rstrip("/")
        if not base:
            raise DeliveryError("SMS_API_BASE is not configured")
        payload = json.dumps({"to": to, "text": text, "sender": settings.SMS_SENDER}).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL comes from our settings
            f"{base}/v1/messages",
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.SMS_API_KEY}",
                "Idempotency-Key": idempotency_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                body = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace")
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                raise PermanentDeliveryError(f"sms {exc.code}: {detail}") from exc
            raise DeliveryError(f"sms {exc.code}: {detail}") from exc
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"sms: {exc}") from exc
        return str(body.get("id", ""))
