"""The health endpoint reports database, cache and broker, on every host."""

from __future__ import annotations

import pytest
from django.test import Client

from config.celery_app import app


@pytest.mark.django_db
def test_health_is_ok_with_every_service_up() -> None:
    response = Client().get("/health/", HTTP_HOST="localhost")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    # On the provider's host, billing's meter events and e-invoice signing too (all fine here).
    checks = {"database", "cache", "broker", "meter_outbox", "einvoice_signing"}
    assert set(body["checks"]) == checks
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["meter_outbox"]["stuck"] == 0


@pytest.mark.django_db
def test_health_reports_a_dead_broker(monkeypatch) -> None:
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = Client().get("/health/", HTTP_HOST="localhost")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
