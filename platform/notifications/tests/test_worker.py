"""The real Celery worker delivers a notification, retrying through a provider failure."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import transaction

from billing.models import UsageEvent
from notifications.models import Notification
from notifications.tests.conftest import submit
from tenants.context import agency_context
from tests.fakes.sms_server import FakeSms


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_an_sms_after_a_provider_failure(
    worker: Any, commune: Any, citizen: Any, fake_sms: FakeSms
) -> None:
    fake_sms.fail_next(1, status=500)
    # The commit happens after the agency's schema was left: the hand-off keeps its schema.
    with transaction.atomic(), agency_context(commune):
        dossier = submit(commune, citizen)
    with agency_context(commune):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            statuses = dict(
                Notification.objects.filter(dossier=dossier).values_list("channel", "status")
            )
            if statuses == {"email": "sent", "sms": "sent"}:
                break
            time.sleep(0.3)
        assert statuses == {"email": "sent", "sms": "sent"}
        sms = Notification.objects.get(dossier=dossier, channel="sms")
        assert sms.attempts == 2
    assert [m["to"] for m in fake_sms.messages] == ["0912345678"]
    assert (
        UsageEvent.objects.filter(
            metric="sms_sent", idempotency_key=f"sms:{commune.schema_name}:{sms.pk}"
        ).count()
        == 1
    )
