"""Applications to join the platform, their audit trail and bulk province runs (public schema).

Writes go through ``onboarding.services``; these classes only describe data.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import AgencyKind


class ApplicationState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    PROVISIONING = "provisioning", _("Provisioning")
    CONFIGURING = "configuring", _("Configuring")
    FAILED = "failed", _("Failed")
    LIVE = "live", _("Live")
    SUSPENDED = "suspended", _("Suspended")
    OFFBOARDED = "offboarded", _("Offboarded")


# States in which an application holds its unit (slug, admin-unit code, admin e-mail).
OPEN_STATES = [s for s in ApplicationState.values if s != ApplicationState.REJECTED]
# The pipeline's steps are queued or running.
RUNNING_STATES = (ApplicationState.PROVISIONING, ApplicationState.CONFIGURING)


class ProvinceRun(models.Model):
    """One bulk onboarding of a province (command or console action) and its progress."""

    province_code = models.CharField(_("province code"), max_length=3, db_index=True)
    departments = models.JSONField(_("departments"), default=list, blank=True)
    billing_account = models.ForeignKey(
        "billing.BillingAccount", on_delete=models.PROTECT, null=True, blank=True
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, default="queued")  # queued/running/finished/failed
    error = models.TextField(blank=True)
    actor_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("province onboarding run")

    def __str__(self) -> str:
        return f"{self.province_code} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == "finished":
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class Application(models.Model):
    """An agency asking to join, from submission to live (and beyond)."""

    kind = models.CharField(_("kind"), max_length=20, choices=AgencyKind.choices)
    province_code = models.CharField(_("province code"), max_length=3, db_index=True)
    admin_unit_code = models.CharField(_("official admin-unit code"), max_length=10)
    name = models.CharField(_("agency name"), max_length=255)
    slug = models.CharField(_("slug"), max_length=50)
    parent = models.ForeignKey(
        "tenants.Agency",
        verbose_name=_("parent agency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="child_applications",
    )
    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_phone = models.CharField(_("contact phone"), max_length=30)
    admin_email = models.EmailField(_("administrator e-mail"))
    requested_plan = models.ForeignKey(
        "billing.Plan",
        verbose_name=_("requested plan"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    billing_account = models.ForeignKey(
        "billing.BillingAccount",
        verbose_name=_("billing account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=ApplicationState.choices,
        default=ApplicationState.SUBMITTED,
        db_index=True,
    )
    reject_reason = models.TextField(_("reason for rejection"), blank=True)
    agency = models.OneToOneField(
        "tenants.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="application",
    )
    # Pipeline progress: the step running (or that failed), steps finished, last error.
    step = models.CharField(_("step"), max_length=20, blank=True)
    steps_done = models.JSONField(default=list, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(_("error"), blank=True)
    notes = models.JSONField(default=list, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    province_run = models.ForeignKey(
        ProvinceRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="applications"
    )
    created_by_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(_("submitted"), auto_now_add=True, db_index=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    live_at = models.DateTimeField(_("went live"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["province_code", "kind", "state"])]
        constraints = [
            # Rejected applications free their unit; open ones hold it (also under races).
            models.UniqueConstraint(
                fields=["slug"],
                condition=~models.Q(state="rejected"),
                name="application_one_open_per_slug",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApplicationEvent(models.Model):
    """Append-only history of an application: every transition and pipeline step."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=40)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    actor_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.event}"

    @property
    def label(self) -> str:
        """What happened, in the reader's language: a step's own label, else the state's."""
        if self.event in APPLICATION_EVENT_LABELS:
            return str(APPLICATION_EVENT_LABELS[self.event])
        if self.event in ApplicationState.values:
            return str(ApplicationState(self.event).label)
        return self.event

    @property
    def from_state_label(self) -> str:
        return _state_label(self.from_state)

    @property
    def to_state_label(self) -> str:
        return _state_label(self.to_state)


def _state_label(state: str) -> str:
    return str(ApplicationState(state).label) if state in ApplicationState.values else state


# Events that are not simply the state entered (a test keeps the list complete).
APPLICATION_EVENT_LABELS = {
    "submitted": _("Application submitted"),
    "provisioning": _("Provisioning started"),
    "retry": _("Provisioning retried"),
    "resumed": _("Provisioning resumed"),
    "step_done": _("Provisioning step done"),
    "step_failed": _("Provisioning step failed"),
    "queue_failed": _("Could not reach the task queue"),
    "reactivated": _("Reactivated"),
}


class ExitPackRun(models.Model):
    """One export of an agency's exit pack (console action or command), and its progress.

    With ``offboard`` the agency is offboarded once the pack has been written and re-read.
    """

    agency = models.ForeignKey(
        "tenants.Agency", on_delete=models.PROTECT, related_name="exit_pack_runs"
    )
    offboard = models.BooleanField(_("offboard after export"), default=False)
    status = models.CharField(max_length=20, default="queued")  # queued/running/finished/failed
    step = models.CharField(max_length=80, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    path = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    actor_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("exit pack export")

    def __str__(self) -> str:
        return f"{self.agency_id}: {self.status}"
