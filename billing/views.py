"""HTTP endpoints of billing on the public host: the Stripe webhook receiver (thin)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.webhooks import WebhookRejected, webhook_event_receive


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verify the signature on the raw body, store the event once, answer at once."""
    try:
        event, queued = webhook_event_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except WebhookRejected as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    return JsonResponse({"received": True, "id": event.event_id, "queued": queued})
