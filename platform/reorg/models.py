"""Reorganisations of agencies (public schema): merges, their steps and their verification.

Writes go through ``reorg.services``; these classes only describe data.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class MergeStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    RUNNING = "running", _("Running")
    FAILED = "failed", _("Failed (run it again to finish)")
    FINISHED = "finished", _("Finished")


class Merge(models.Model):
    """Agencies A, B, … merged into the target agency C, effective on a date."""

    target = models.ForeignKey(
        "tenants.Agency",
        verbose_name=_("target agency"),
        on_delete=models.PROTECT,
        related_name="merges_in",
    )
    effective_on = models.DateField(_("effective on"))
    status = models.CharField(
        _("status"), max_length=10, choices=MergeStatus.choices, default=MergeStatus.PLANNED
    )
    # The dry run as it was when the merge was created (what moves, what clashes).
    plan: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)
    # code of a clashing procedure → slug of the agency whose settings win (default: target's).
    choices: models.JSONField[dict[str, str]] = models.JSONField(default=dict, blank=True)
    # source slug → lifecycle.move.MoveMap (ids reserved in the target).
    maps: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    verification: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    step = models.CharField(_("current step"), max_length=120, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    actor_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("agency merge")
        verbose_name_plural = _("agency merges")

    def __str__(self) -> str:
        return f"merge {self.pk} → {self.target_id}"


class MergeSource(models.Model):
    """One agency merged away; an agency is merged away at most once."""

    merge = models.ForeignKey(Merge, on_delete=models.CASCADE, related_name="sources")
    agency = models.OneToOneField(
        "tenants.Agency", on_delete=models.PROTECT, related_name="merged_by"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["merge", "position"]

    def __str__(self) -> str:
        return f"{self.agency_id} → merge {self.merge_id}"


class MergeStep(models.Model):
    """A step of a merge that has been completed (its name is unique within the merge).

    Every step is idempotent: a run killed at any point re-runs the first step not recorded.
    """

    merge = models.ForeignKey(Merge, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=120)
    detail: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    done_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["merge", "done_at", "id"]
        constraints = [models.UniqueConstraint(fields=["merge", "name"], name="merge_step_unique")]

    def __str__(self) -> str:
        return f"{self.merge_id}: {self.name}"


class Split(models.Model):
    """Procedures of an agency, their dossiers and chosen staff, moved to another agency (an
    existing one or one created for the split) effective on a date; the rest stays."""

    source = models.ForeignKey(
        "tenants.Agency",
        verbose_name=_("agency split"),
        on_delete=models.PROTECT,
        related_name="splits_out",
    )
    target = models.ForeignKey(
        "tenants.Agency",
        verbose_name=_("agency receiving"),
        on_delete=models.PROTECT,
        related_name="splits_in",
    )
    effective_on = models.DateField(_("effective on"))
    # National codes of the procedures that move, and e-mails of the staff that move.
    procedures: models.JSONField[list[str]] = models.JSONField(default=list)
    staff: models.JSONField[list[str]] = models.JSONField(default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MergeStatus.choices, default=MergeStatus.PLANNED
    )
    plan: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)
    choices: models.JSONField[dict[str, str]] = models.JSONField(default=dict, blank=True)
    # The rows that move ({table: source primary keys}), fixed while the source is frozen,
    # and how they are rewritten (lifecycle.move.MoveMap).
    selection: models.JSONField[dict[str, list[Any]]] = models.JSONField(default=dict, blank=True)
    map: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    verification: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    step = models.CharField(_("current step"), max_length=120, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    actor_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("agency split")
        verbose_name_plural = _("agency splits")

    def __str__(self) -> str:
        return f"split {self.pk}: {self.source_id} → {self.target_id}"


class SplitStep(models.Model):
    """A step of a split that has been completed (idempotent, as a merge's)."""

    split = models.ForeignKey(Split, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=120)
    detail: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    done_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["split", "done_at", "id"]
        constraints = [models.UniqueConstraint(fields=["split", "name"], name="split_step_unique")]

    def __str__(self) -> str:
        return f"{self.split_id}: {self.name}"
