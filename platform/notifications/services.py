"""Queueing and delivering notifications, and editing an agency's templates.

``notify_applicant`` writes the outbox rows of one event **inside the caller's transaction**
(a rolled-back action leaves no message) and, on commit, hands each row to the Celery task
``notification_send``. Delivery (``notification_deliver``) locks the row, sends through its
channel and records the outcome; a failure is recorded and retried by the task with backoff —
it never touches the dossier. An SMS the provider accepted is metered once in the usage ledger
(``sms_sent``, key ``sms:<schema>:<notification id>``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from billing.models import Metric
from billing.services import usage_record
from core.mail import agency_name, sender_address
from dossiers.models import Dossier
from notifications.channels import (
    DeliveryError,
    PermanentDeliveryError,
    channel_get,
)
from notifications.models import (
    ACCOUNT_KEYS,
    ChannelName,
    Notification,
    NotificationStatus,
    NotificationTemplate,
    TemplateKey,
)
from notifications.rendering import (
    SAMPLE_CONTEXT,
    Rendered,
    render_default,
    render_message,
    render_source,
)
from tenants.db import connection

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

APPLICANT_KEYS = (
    TemplateKey.RECEIPT,
    TemplateKey.SUPPLEMENT,
    TemplateKey.RESULT_READY,
    TemplateKey.APOLOGY,
)


def day_text(day: dt.date | None) -> str:
    return f"{day:%d/%m/%Y}" if day else ""


# -- Account mails ---------------------------------------------------------------------------


def account_mail_render(*, key: str, context: dict[str, Any]) -> Rendered:
    """A mail about a person's account (confirm an address, choose a password, an invitation)
    in the active agency's words: its own template if it wrote one, else the default; in
    Vietnamese, signed with its name. On the provider's own host: the default, signed with
    the platform's name."""
    if key not in ACCOUNT_KEYS:
        raise ValueError(f"not an account mail: {key}")
    full = {"agency_name": agency_name() or settings.PLATFORM_NAME, **context}
    if connection.schema_name == "public":
        return render_default(key, ChannelName.EMAIL, full)
    return render_message(key, ChannelName.EMAIL, full)


def account_mail_send(*, key: str, to: str, context: dict[str, Any]) -> None:
    """Send an account mail now (the person is waiting for it), from the agency's name."""
    rendered = account_mail_render(key=key, context=context)
    EmailMessage(
        subject=rendered.subject, body=rendered.body, from_email=sender_address(), to=[to]
    ).send()


def dossier_context(dossier: Dossier, **extra: Any) -> dict[str, Any]:
    """The plain-string context every applicant message may use."""
    return {
        "agency_name": agency_name(),
        "applicant_name": dossier.applicant_name,
        "dossier_code": dossier.code,
        "procedure_name": dossier.procedure.name,
        "due_date": day_text(dossier.due_date),
        **extra,
    }


def _enqueue(notification_id: int, schema_name: str | None = None) -> None:
    from notifications.tasks import notification_send

    # The schema the row was written in, even if the commit happens with another active.
    schema = schema_name or connection.schema_name
    notification_send.apply_async(args=(notification_id,), headers={"_schema_name": schema})


def _after_commit(ids: Sequence[int]) -> None:
    # robust: a broker outage must not turn a committed action into an error page; the
    # periodic sweep (notifications_resend_stale) sends what was left queued.
    schema = connection.schema_name
    for pk in ids:
        transaction.on_commit(partial(_enqueue, pk, schema), robust=True)


def _create(
    *,
    dossier: Dossier | None,
    key: str,
    channel: str,
    recipient: str,
    context: dict[str, Any],
    recipient_user_id: int | None = None,
    dedupe_key: str | None = None,
) -> Notification:
    rendered: Rendered = render_message(key, channel, context)
    return Notification.objects.create(
        dossier=dossier,
        channel=channel,
        recipient=recipient,
        recipient_user_id=recipient_user_id,
        template_key=key,
        subject=rendered.subject,
        body=rendered.body,
        dedupe_key=dedupe_key,
    )


def notify_applicant(*, dossier: Dossier, key: str, **extra: Any) -> list[Notification]:
    """Queue message ``key`` to the dossier's applicant, by e-mail and SMS where known.

    Call inside the transaction of the event: the rows commit or roll back with it."""
    if key not in APPLICANT_KEYS:
        raise ValueError(f"not an applicant message: {key}")
    context = dossier_context(dossier, **extra)
    made: list[Notification] = []
    email = dossier.applicant_email
    if not email and dossier.applicant_id is not None:
        email = getattr(dossier.applicant, "email", "")
    if email:
        made.append(
            _create(
                dossier=dossier,
                key=key,
                channel=ChannelName.EMAIL,
                recipient=email,
                context=context,
                recipient_user_id=dossier.applicant_id,
            )
        )
    if dossier.applicant_phone and settings.NOTIFICATIONS_SMS_ENABLED:
        made.append(
            _create(
                dossier=dossier,
                key=key,
                channel=ChannelName.SMS,
                recipient=dossier.applicant_phone,
                context=context,
                recipient_user_id=dossier.applicant_id,
            )
        )
    _after_commit([n.pk for n in made])
    return made


def notify_officer_due_soon(
    *, user_id: int, email: str, name: str, lines: Sequence[str], day: dt.date
) -> Notification | None:
    """Queue one officer's due-soon reminder of ``day`` (once per officer and day)."""
    dedupe = f"due_soon:{user_id}:{day.isoformat()}"
    if Notification.objects.filter(dedupe_key=dedupe).exists():
        return None
    context = {
        "agency_name": agency_name(),
        "officer_name": name or email,
        "dossiers": list(lines),
        "count": str(len(lines)),
    }
    notification = _create(
        dossier=None,
        key=TemplateKey.DUE_SOON,
        channel=ChannelName.EMAIL,
        recipient=email,
        context=context,
        recipient_user_id=user_id,
        dedupe_key=dedupe,
    )
    _after_commit([notification.pk])
    return notification


# -- Delivery ------------------------------------------------------------------------------


class DeliveryFailed(Exception):
    """This attempt failed and was recorded; the task retries."""


def idempotency_key(notification: Notification) -> str:
    return f"{connection.schema_name}:notification:{notification.pk}"


def notification_deliver(*, notification_id: int) -> str:
    """Send one queued notification of the active agency. Returns its status.

    The row is locked while sending, so two deliveries of one message never both send; a sent
    or failed row is left alone (a repeated task is a no-op). A retryable failure is recorded
    (attempts, last error) and then raised as DeliveryFailed for the task to retry; after
    ``NOTIFICATIONS_MAX_ATTEMPTS`` or a permanent error the row is marked failed.
    """
    error: DeliveryError | None = None
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.status != NotificationStatus.QUEUED:
            return notification.status if notification else "missing"
        notification.attempts += 1
        try:
            notification.provider_id = channel_get(notification.channel).deliver(
                notification, idempotency_key=idempotency_key(notification)
            )
        except DeliveryError as exc:
            error = exc
            notification.last_error = str(exc)[:2000]
            permanent = isinstance(exc, PermanentDeliveryError)
            if permanent or notification.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
                notification.status = NotificationStatus.FAILED
            notification.save(update_fields=["attempts", "last_error", "status"])
        else:
            now = timezone.now()
            notification.status = NotificationStatus.SENT
            notification.sent_at = now
            notification.last_error = ""
            notification.save(
                update_fields=["attempts", "status", "sent_at", "last_error", "provider_id"]
            )
            _after_sent(notification, now)
    if error is not None:
        logger.warning("notification %s failed: %s", notification_id, error)
        if notification.status == NotificationStatus.QUEUED:
            raise DeliveryFailed(str(error)) from error
    return notification.status


def _after_sent(notification: Notification, now: dt.datetime) -> None:
    if notification.channel == ChannelName.SMS:
        usage_record(
            agency=connection.tenant,
            metric=Metric.SMS_SENT,
            idempotency_key=f"sms:{connection.schema_name}:{notification.pk}",
            occurred_at=now,
        )
    for hook in _on_sent_hooks():  # the lifecycle: a signed Form 04 becomes sent
        hook(notification=notification, at=now)


@functools.cache
def _on_sent_hooks() -> tuple[Callable[..., None], ...]:
    """``settings.NOTIFICATIONS_ON_SENT``: what apps above want done once a message went out,
    called in the delivery's transaction (the outbox never imports them by name)."""
    return tuple(import_string(path) for path in settings.NOTIFICATIONS_ON_SENT)


def notifications_resend_stale(*, older_than: dt.timedelta = dt.timedelta(minutes=15)) -> int:
    """Hand queued rows whose task was lost (broker down at commit) to the worker again.

    Only rows never attempted: a row with attempts is in Celery's retry schedule already."""
    cutoff = timezone.now() - older_than
    ids = list(
        Notification.objects.filter(
            status=NotificationStatus.QUEUED, attempts=0, created_at__lt=cutoff
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in ids:
        _enqueue(pk)
    return len(ids)


# -- Templates -----------------------------------------------------------------------------


def template_preview(*, subject: str, body: str) -> Rendered:
    """Render agency-written sources with sample data (ValidationError if they are wrong)."""
    return render_source(subject, body, SAMPLE_CONTEXT)


def template_save(
    *, key: str, channel: str, subject: str, body: str, actor: User | None
) -> NotificationTemplate:
    """Store the agency's wording of one message; bad syntax saves nothing."""
    if key not in TemplateKey.values or channel not in ChannelName.values:
        raise ValidationError(_("Unknown message."))
    if not body.strip():
        raise ValidationError({"body": _("The text cannot be empty.")})
    template_preview(subject=subject, body=body)
    from audit.services import audit_record

    with transaction.atomic():
        template, _created = NotificationTemplate.objects.update_or_create(
            key=key,
            channel=channel,
            defaults={"subject": subject.strip(), "body": body, "updated_by": actor},
        )
        audit_record(action="notification_template.saved", actor=actor, target=f"{key}/{channel}")
    return template


def template_reset(*, key: str, channel: str, actor: User | None) -> None:
    from audit.services import audit_record

    with transaction.atomic():
        NotificationTemplate.objects.filter(key=key, channel=channel).delete()
        audit_record(action="notification_template.reset", actor=actor, target=f"{key}/{channel}")


def messages_of(dossier: Dossier) -> Iterable[Notification]:
    return Notification.objects.filter(dossier=dossier).order_by("created_at", "id")
