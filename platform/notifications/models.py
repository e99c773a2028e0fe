"""Messages to applicants and officers, their per-agency templates, and Form 04. Agency schema.

``Notification`` is the outbox: one row per message, written in the transaction of the event
that causes it and delivered afterwards by a Celery task, so a failing channel never blocks or
rolls back the processing of a dossier. ``NotificationTemplate`` is an agency's own wording
for one message on one channel (the defaults are files in templates/notifications/).
Form 04 (``Apology``) lives with the dossier, in ``dossiers.models``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.fields import public_user_fk


class ChannelName(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class TemplateKey(models.TextChoices):
    RECEIPT = "receipt", _("Dossier received")
    SUPPLEMENT = "supplement", _("Supplement requested")
    RESULT_READY = "result_ready", _("Result ready")
    APOLOGY = "apology", _("Apology and new appointment (Form 04)")
    DUE_SOON = "due_soon", _("Reminder to officers: dossiers due soon")
    # The account mails (sent by allauth and the staff pages, in the agency's words).
    ACCOUNT_CONFIRM = "account_confirm", _("Account: confirm the e-mail address")
    PASSWORD_RESET = "password_reset", _("Account: choose a new password")
    UNKNOWN_ACCOUNT = "unknown_account", _("Account: password asked for an unknown address")
    ACCOUNT_EXISTS = "account_exists", _("Account: sign-up with an address already registered")
    STAFF_INVITATION = "staff_invitation", _("Staff: invitation to the agency")


#: Messages about a person's account, by e-mail only.
ACCOUNT_KEYS = (
    TemplateKey.ACCOUNT_CONFIRM,
    TemplateKey.PASSWORD_RESET,
    TemplateKey.UNKNOWN_ACCOUNT,
    TemplateKey.ACCOUNT_EXISTS,
    TemplateKey.STAFF_INVITATION,
)


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    dossier = models.ForeignKey(
        "dossiers.Dossier",
        on_delete=models.PROTECT,
        related_name="notifications",
        null=True,
        blank=True,
    )
    channel = models.CharField(_("channel"), max_length=10, choices=ChannelName.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    recipient_user = public_user_fk()
    template_key = models.CharField(_("message"), max_length=20, choices=TemplateKey.choices)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=NotificationStatus.choices,
        default=NotificationStatus.QUEUED,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # Makes a message that must go once (a day's reminder) idempotent; null for the rest.
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    provider_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="notification_queued",
                condition=models.Q(status="queued"),
            ),
            models.Index(fields=["dossier", "created_at"], name="notification_dossier"),
        ]

    def __str__(self) -> str:
        return f"{self.template_key}/{self.channel} → {self.recipient} ({self.status})"


class NotificationTemplate(models.Model):
    """An agency's wording of one message on one channel (Django template syntax, with the
    restricted engine of notifications.rendering)."""

    key = models.CharField(_("message"), max_length=20, choices=TemplateKey.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=ChannelName.choices)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"))
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = public_user_fk()

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        constraints = [
            models.UniqueConstraint(fields=["key", "channel"], name="notification_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key}/{self.channel}"
