"""Inter-agency transfer (liên thông). Public schema: both agencies see one record.

An ``Exchange`` is one hand-off of a dossier (or some of its documents) from the
agency processing it (the sender) to another agency on the platform (the
receiver), for the receiver to do its part and return the result. ``owner`` is
the single field saying which agency holds the dossier now: it changes only
under a row lock, in the same transaction as the sender's dossier status, so a
dossier is never lost between agencies and never owned by both.

Public tables hold no foreign key into an agency schema: the sender's dossier
is named by id and code. ``ExchangeDocument`` rows record which documents went
each way and where their copies are in the holding agency's storage;
``ExchangeEvent`` is the exchange's own append-only trail, shown to both agencies.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExchangeState(models.TextChoices):
    SENT = "sent", _("Sent, waiting for the receiving agency")
    ACCEPTED = "accepted", _("Accepted, being processed")
    RETURNED = "returned", _("Returned to the sending agency")
    REFUSED = "refused", _("Refused by the receiving agency")


OPEN_STATES = (ExchangeState.SENT, ExchangeState.ACCEPTED)


def _user_fk(**kwargs: Any) -> Any:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        **kwargs,
    )


class Exchange(models.Model):
    # Names the transfer's folder in each agency's storage: unique even across restores.
    folder = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sender = models.ForeignKey(
        "tenants.Agency", on_delete=models.PROTECT, related_name="exchanges_sent"
    )
    receiver = models.ForeignKey(
        "tenants.Agency", on_delete=models.PROTECT, related_name="exchanges_received"
    )
    owner = models.ForeignKey(
        "tenants.Agency",
        verbose_name=_("held by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ExchangeState.choices, default=ExchangeState.SENT
    )
    # The sender's dossier (in the sender's schema), and what the receiver may know of it.
    dossier_id = models.BigIntegerField()
    dossier_code = models.CharField(_("dossier code"), max_length=40)
    procedure_code = models.CharField(_("procedure code"), max_length=40)
    procedure_name = models.CharField(_("procedure"), max_length=500)
    applicant_name = models.CharField(_("applicant"), max_length=200)
    step_position = models.PositiveSmallIntegerField()
    step_name = models.CharField(_("step"), max_length=300)
    request_note = models.TextField(_("what is asked"), blank=True)
    sent_at = models.DateTimeField(_("sent"))
    sent_by = _user_fk(verbose_name=_("sent by"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = _user_fk(verbose_name=_("accepted by"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = _user_fk(verbose_name=_("answered by"))
    answer_note = models.TextField(_("answer"), blank=True)

    class Meta:
        verbose_name = _("inter-agency transfer")
        verbose_name_plural = _("inter-agency transfers")
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["receiver", "state", "-sent_at"], name="exchange_inbox"),
            models.Index(fields=["sender", "-sent_at"], name="exchange_outbox"),
        ]
        constraints = [
            # One dossier is with at most one other agency at a time.
            models.UniqueConstraint(
                fields=["sender", "dossier_id"],
                condition=models.Q(state__in=["sent", "accepted"]),
                name="exchange_one_open_per_dossier",
            ),
            models.CheckConstraint(
                condition=~models.Q(sender=models.F("receiver")), name="exchange_not_to_self"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(state__in=["sent", "accepted"], owner=models.F("receiver"))
                    | models.Q(state__in=["returned", "refused"], owner=models.F("sender"))
                ),
                name="exchange_owner_matches_state",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_code} → {self.receiver_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class Direction(models.TextChoices):
    SENT = "sent", _("Sent with the dossier")
    RETURNED = "returned", _("Returned with the result")


class ExchangeDocument(models.Model):
    """A document that went one way. ``source_path`` is the file in the giving agency's
    storage; ``copy_path`` its copy in the taking agency's storage (empty until copied)."""

    exchange = models.ForeignKey(Exchange, on_delete=models.CASCADE, related_name="documents")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    name = models.CharField(_("document"), max_length=500)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    source_path = models.CharField(max_length=300)
    copy_path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["direction", "id"]

    def __str__(self) -> str:
        return f"{self.name}: {self.original_name}"


class ExchangeEvent(models.Model):
    """One line of the exchange's trail, visible to both agencies. Append-only."""

    exchange = models.ForeignKey(Exchange, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"))
    agency = models.ForeignKey("tenants.Agency", on_delete=models.PROTECT, related_name="+")
    actor = _user_fk(verbose_name=_("by"))
    action = models.CharField(_("action"), max_length=10, choices=ExchangeState.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.exchange_id} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("the exchange trail is append-only")
        super().save(*args, **kwargs)
