"""The workflow state of dossiers and the forms the desk issues. Agency schema.

These models belonged to the desk app until the lifecycle got its own home; they moved here
(Django state only: the tables keep their ``desk_`` names, rows, indexes and the hand-over
trigger) so that the lifecycle, which writes them, sits below the desk that shows them.

``DossierProcess`` is where a dossier stands in its pinned procedure version's
internal process (step, assignee, step due date, the paused clock).
``HandOver`` is the processing-control trail (Form 06): append-only, enforced
by a database trigger. ``SupplementRequest`` (Form 02), ``Refusal`` (Form 03)
and ``StopNotice`` (Form 05) keep what those forms say; ``ResultDocument`` is
the result the agency issues.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.fields import public_user_fk


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not granted")


class Outcome(models.TextChoices):
    """How a completed dossier's result date compares with its due date (statistics)."""

    EARLY = "early", _("Before the due date")
    ON_TIME = "on_time", _("On the due date")
    LATE = "late", _("Late")


class ReturnMethod(models.TextChoices):
    DESK = "desk", _("In person at the one-stop desk")
    POST = "post", _("By post")
    ELECTRONIC = "electronic", _("Electronically, to the applicant's account")


class DossierProcess(models.Model):
    """Where one dossier stands in its internal process. ``step_position`` is None when the
    dossier has left the process (returned, rejected, refused, stopped, withdrawn)."""

    dossier = models.OneToOneField(
        "dossiers.Dossier", on_delete=models.PROTECT, primary_key=True, related_name="process"
    )
    procedure = models.ForeignKey(
        "procedures.AgencyProcedure", on_delete=models.PROTECT, related_name="+"
    )
    step_position = models.PositiveSmallIntegerField(_("step"), null=True, blank=True)
    step_name = models.CharField(_("step name"), max_length=300, blank=True)
    step_role = models.CharField(_("step role"), max_length=20, blank=True)
    assignee = public_user_fk(verbose_name=_("assigned to"))
    step_started_at = models.DateTimeField(_("step started"), null=True, blank=True)
    step_due_date = models.DateField(_("step due"), null=True, blank=True)
    paused_at = models.DateTimeField(_("clock paused since"), null=True, blank=True)
    status_before_pause = models.CharField(max_length=24, blank=True)
    paused_days_total = models.PositiveIntegerField(_("paused working days"), default=0)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = public_user_fk(verbose_name=_("decided by"))
    outcome = models.CharField(_("timeliness"), max_length=10, choices=Outcome.choices, blank=True)
    return_method = models.CharField(
        _("result returned"), max_length=12, choices=ReturnMethod.choices, blank=True
    )
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "desk_dossierprocess"  # kept from the desk app
        verbose_name = _("dossier process")
        verbose_name_plural = _("dossier processes")
        indexes = [
            models.Index(
                fields=["assignee", "step_due_date"],
                name="process_assignee_due",
                condition=models.Q(step_position__isnull=False),
            ),
            models.Index(
                fields=["step_role", "step_due_date"],
                name="process_role_due",
                condition=models.Q(step_position__isnull=False),
            ),
            models.Index(
                fields=["step_due_date"],
                name="process_open_due",
                condition=models.Q(step_position__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id} @ {self.step_position}"


class StepAssignment(models.Model):
    """An officer who may take one step of one procedure. A step with no assignments is
    open to every member holding the step's role."""

    procedure = models.ForeignKey(
        "procedures.AgencyProcedure", on_delete=models.CASCADE, related_name="step_assignments"
    )
    step_position = models.PositiveSmallIntegerField(_("step"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "desk_stepassignment"  # kept from the desk app
        verbose_name = _("step assignment")
        verbose_name_plural = _("step assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "step_position", "user"], name="step_assignment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.procedure_id}#{self.step_position}: {self.user_id}"


class HandOverAction(models.TextChoices):
    RECEIVED = "received", _("Received")
    REFUSED = "refused", _("Refused at reception")
    CLAIMED = "claimed", _("Taken")
    ASSIGNED = "assigned", _("Assigned")
    FORWARDED = "forwarded", _("Forwarded")
    SENT_BACK = "sent_back", _("Sent back")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("Supplement requested")
    SUPPLEMENTED = "supplemented", _("Supplemented")
    RESULT_ATTACHED = "result_attached", _("Result attached")
    RESULT_SIGNED = "result_signed", _("Result signed by the leader")
    APPROVED = "approved", _("Approved and result issued")
    REJECTED = "rejected", _("Not granted")
    RETURNED = "returned", _("Result returned")
    STOPPED = "stopped", _("Processing stopped")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    TRANSFERRED = "transferred", _("Transferred to another agency")
    TRANSFER_REFUSED = "transfer_refused", _("Transfer refused by the other agency")
    TRANSFER_RETURNED = "transfer_returned", _("Returned by the other agency")


class HandOverQuerySet(models.QuerySet["HandOver"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("the hand-over trail is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the hand-over trail is append-only")


class HandOver(models.Model):
    """One line of the processing-control sheet (Form 06). Append-only: the model refuses
    changes and a database trigger rejects UPDATE and DELETE from anyone."""

    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="hand_overs"
    )
    at = models.DateTimeField(_("time"))
    actor = public_user_fk(verbose_name=_("by"))
    action = models.CharField(_("action"), max_length=24, choices=HandOverAction.choices)
    from_step = models.PositiveSmallIntegerField(null=True, blank=True)
    from_step_name = models.CharField(_("from step"), max_length=300, blank=True)
    to_step = models.PositiveSmallIntegerField(null=True, blank=True)
    to_step_name = models.CharField(_("to step"), max_length=300, blank=True)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    assignee = public_user_fk(verbose_name=_("handed to"))
    note = models.TextField(_("note"), blank=True)

    objects = HandOverQuerySet.as_manager()

    class Meta:
        db_table = "desk_handover"  # kept from the desk app
        verbose_name = _("hand-over")
        verbose_name_plural = _("hand-overs")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["dossier", "at"], name="handover_dossier_at")]

    def __str__(self) -> str:
        return f"{self.dossier_id} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("the hand-over trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("the hand-over trail is append-only")


class SupplementRequest(models.Model):
    """Form 02: the complete list of what is missing, given once per dossier."""

    dossier = models.OneToOneField(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="supplement_request"
    )
    items: models.JSONField[list[str]] = models.JSONField(_("missing items"), default=list)
    note = models.TextField(_("note"), blank=True)
    step_position = models.PositiveSmallIntegerField(null=True, blank=True)
    requested_at = models.DateTimeField(_("requested"))
    requested_by = public_user_fk(verbose_name=_("requested by"))
    supplemented_at = models.DateTimeField(_("supplemented"), null=True, blank=True)
    supplemented_by = public_user_fk(verbose_name=_("supplemented by"))
    supplement_channel = models.CharField(max_length=20, blank=True)
    paused_working_days = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "desk_supplementrequest"  # kept from the desk app
        verbose_name = _("supplement request")
        verbose_name_plural = _("supplement requests")

    def __str__(self) -> str:
        return f"{self.dossier_id}: {len(self.items)} item(s)"


class Refusal(models.Model):
    """Form 03: refusal to receive, with reasons. A refusal at the desk keeps no dossier."""

    dossier = models.OneToOneField(
        "dossiers.Dossier",
        on_delete=models.PROTECT,
        related_name="refusal",
        null=True,
        blank=True,
    )
    procedure = models.ForeignKey(
        "procedures.AgencyProcedure", on_delete=models.PROTECT, related_name="+"
    )
    applicant_name = models.CharField(_("applicant"), max_length=200)
    applicant_id_number = models.CharField(_("personal ID number"), max_length=12, blank=True)
    applicant_phone = models.CharField(_("phone number"), max_length=20, blank=True)
    channel = models.CharField(_("channel"), max_length=20)
    reasons: models.JSONField[list[str]] = models.JSONField(_("reasons"), default=list)
    refused_at = models.DateTimeField(_("refused"), db_index=True)
    refused_by = public_user_fk(verbose_name=_("refused by"))

    class Meta:
        db_table = "desk_refusal"  # kept from the desk app
        verbose_name = _("refusal")
        verbose_name_plural = _("refusals")
        ordering = ["-refused_at", "-id"]

    def __str__(self) -> str:
        return f"{self.applicant_name} {self.refused_at:%Y-%m-%d}"


class StopNotice(models.Model):
    """Form 05: the agency stops processing a dossier, with the reason."""

    dossier = models.OneToOneField(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="stop_notice"
    )
    reason = models.TextField(_("reason"))
    stopped_at = models.DateTimeField(_("stopped"))
    stopped_by = public_user_fk(verbose_name=_("stopped by"))

    class Meta:
        db_table = "desk_stopnotice"  # kept from the desk app
        verbose_name = _("stop notice")
        verbose_name_plural = _("stop notices")

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.reason[:40]}"


def result_upload_to(instance: Any, filename: str) -> str:
    received = instance.dossier.received_at
    return f"dossiers/{received:%Y/%m}/{instance.dossier.code}/result/{filename}"


class ResultDocument(models.Model):
    """The result the agency issues (a licence, a certificate, a written answer)."""

    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="results"
    )
    number = models.CharField(_("document number"), max_length=60, blank=True)
    file = models.FileField(upload_to=result_upload_to, max_length=300)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    attached_at = models.DateTimeField(_("attached"))
    attached_by = public_user_fk(verbose_name=_("attached by"))
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    issued_by = public_user_fk(verbose_name=_("issued by"))

    class Meta:
        db_table = "desk_resultdocument"  # kept from the desk app
        verbose_name = _("result document")
        verbose_name_plural = _("result documents")
        ordering = ["attached_at", "id"]

    def __str__(self) -> str:
        return self.number or self.original_name
