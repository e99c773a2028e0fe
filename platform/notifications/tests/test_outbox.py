"""The outbox: written with the event, delivered later, retried, metered once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction

from billing.models import UsageEvent
from desk.services import supplement_request
from notifications.models import Notification, NotificationStatus
from notifications.services import DeliveryFailed, notification_deliver
from notifications.tests.conftest import submit
from tenants.context import agency_context
from tests.fakes.sms_server import FakeSms


class Boom(Exception):
    pass


@pytest.mark.django_db
def test_receipt_is_queued_in_the_submission_transaction(
    commune: Any, citizen: Any, fake_sms: FakeSms, django_capture_on_commit_callbacks: Any
) -> None:
    with agency_context(commune):
        with django_capture_on_commit_callbacks() as callbacks:
            dossier = submit(commune, citizen)
        rows = {n.channel: n for n in Notification.objects.filter(dossier=dossier)}
        assert set(rows) == {"email", "sms"}
        email = rows["email"]
        assert email.recipient == citizen.email and email.status == NotificationStatus.QUEUED
        assert dossier.code in email.subject and "Xã An Bình" in email.subject
        assert "Nguyễn Văn A" in email.body and f"{dossier.due_date:%d/%m/%Y}" in email.body
        assert rows["sms"].recipient == "0912345678" and dossier.code in rows["sms"].body
        assert len(callbacks) >= 2  # one Celery hand-off per message, after commit
        assert fake_sms.requests == 0  # nothing is sent inside the transaction


@pytest.mark.django_db
def test_a_rolled_back_action_leaves_no_notification(
    commune: Any, citizen: Any, staff: Any
) -> None:
    with agency_context(commune):
        with pytest.raises(Boom), transaction.atomic():
            submit(commune, citizen)
            assert Notification.objects.count() == 1
            raise Boom
        assert Notification.objects.count() == 0
        dossier = submit(commune, citizen)
        before = Notification.objects.count()
        # A refused transition (a viewer does not hold the step) writes nothing.
        with pytest.raises(ValidationError):
            supplement_request(dossier=dossier, actor=staff.viewer, items=["Bản sao CCCD"])
        assert Notification.objects.count() == before


@pytest.mark.django_db
def test_email_delivery_and_a_repeated_task_is_a_no_op(commune: Any, citizen: Any) -> None:
    with agency_context(commune):
        dossier = submit(commune, citizen)
        notification = Notification.objects.get(dossier=dossier, channel="email")
        assert notification_deliver(notification_id=notification.pk) == "sent"
        assert notification_deliver(notification_id=notification.pk) == "sent"
        assert len(mail.outbox) == 1 and mail.outbox[0].to == [citizen.email]
        notification.refresh_from_db()
        assert notification.attempts == 1 and notification.sent_at is not None


@pytest.mark.django_db
def test_sms_retries_after_a_provider_failure_and_is_metered_once(
    commune: Any, citizen: Any, fake_sms: FakeSms
) -> None:
    with agency_context(commune):
        dossier = submit(commune, citizen)
        sms = Notification.objects.get(dossier=dossier, channel="sms")
        fake_sms.fail_next(1, status=500)
        with pytest.raises(DeliveryFailed):
            notification_deliver(notification_id=sms.pk)
        sms.refresh_from_db()
        assert sms.status == "queued" and sms.attempts == 1 and "500" in sms.last_error
        assert notification_deliver(notification_id=sms.pk) == "sent"
        assert notification_deliver(notification_id=sms.pk) == "sent"
        sms.refresh_from_db()
        assert sms.attempts == 2 and sms.provider_id.startswith("sms_") and sms.last_error == ""
    assert len(fake_sms.messages) == 1 and fake_sms.messages[0]["to"] == "0912345678"
    usage = UsageEvent.objects.filter(metric="sms_sent", agency=commune)
    assert [u.idempotency_key for u in usage] == [f"sms:{commune.schema_name}:{sms.pk}"]


@pytest.mark.django_db
def test_a_refused_sms_fails_for_good_and_is_not_metered(
    commune: Any, citizen: Any, fake_sms: FakeSms
) -> None:
    with agency_context(commune):
        dossier = submit(commune, citizen)
        sms = Notification.objects.get(dossier=dossier, channel="sms")
        fake_sms.fail_next(1, status=422)
        assert notification_deliver(notification_id=sms.pk) == "failed"
        assert notification_deliver(notification_id=sms.pk) == "failed"
    assert fake_sms.messages == []
    assert not UsageEvent.objects.filter(metric="sms_sent").exists()


@pytest.mark.django_db
def test_supplement_and_result_messages_are_queued(commune: Any, citizen: Any, staff: Any) -> None:
    from desk import services
    from desk.services import dossier_claim, dossier_forward
    from tests.files import pdf

    with agency_context(commune):
        dossier = submit(commune, citizen)
        dossier_claim(dossier=dossier, actor=staff.receptionist)
        dossier_forward(dossier=dossier, actor=staff.receptionist)
        dossier_claim(dossier=dossier, actor=staff.officer)
        supplement_request(
            dossier=dossier, actor=staff.officer, items=["Bản sao CCCD", "Hợp đồng thuê"]
        )
        message = Notification.objects.get(dossier=dossier, template_key="supplement")
        assert "- Bản sao CCCD" in message.body and "- Hợp đồng thuê" in message.body
        services.supplement_receive(dossier=dossier, actor=staff.receptionist, note="Đã nộp")
        services.result_attach(dossier=dossier, actor=staff.officer, file=pdf("kq.pdf"))
        services.dossier_forward(dossier=dossier, actor=staff.officer, to=staff.leader)
        services.dossier_approve(dossier=dossier, actor=staff.leader)
        ready = Notification.objects.get(dossier=dossier, template_key="result_ready")
        assert dossier.code in ready.subject and ready.channel == "email"


@pytest.mark.django_db
def test_another_agency_sees_and_sends_none_of_our_messages(
    commune: Any, make_agency: Any, citizen: Any
) -> None:
    other = make_agency("xa-khac", name="Xã Khác")
    with agency_context(commune):
        submit(commune, citizen)
        ours = Notification.objects.get()
    with agency_context(other):
        assert not Notification.objects.exists()
        # The task runs in the schema it was sent from: an id from elsewhere finds nothing.
        assert notification_deliver(notification_id=ours.pk) == "missing"
    assert mail.outbox == []
