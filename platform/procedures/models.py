"""Procedures an agency has adopted from the national catalog, as it configured them.

The editable configuration (``AgencyProcedure`` with its components, fields and
steps) is a draft; publishing freezes it into an immutable ``ProcedureVersion``
that dossiers are pinned to.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from catalog.spec import FIELD_TYPES, STEP_ROLES, ProcedureSpec, spec_from_json


class AgencyProcedure(models.Model):
    catalog_procedure = models.ForeignKey(
        "catalog.CatalogProcedure",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,  # the catalog lives in the public schema
    )
    code = models.CharField(_("national code"), max_length=40, unique=True)
    catalog_version = models.PositiveIntegerField(_("catalog version followed"))
    name = models.CharField(_("name"), max_length=500)
    name_en = models.CharField(_("English name"), max_length=500, blank=True)
    sector = models.CharField(_("sector"), max_length=150, db_index=True)
    online_mode = models.CharField(_("online mode"), max_length=10, default="full")
    fee = models.PositiveBigIntegerField(_("fee (VND)"), default=0)
    fee_unit = models.CharField(_("fee unit"), max_length=50, blank=True)
    processing_days = models.PositiveIntegerField(_("processing time (working days)"))
    cutoff_hour = models.PositiveSmallIntegerField(_("cut-off hour"), default=17)
    online_submission = models.BooleanField(_("online submission"), default=True)
    online_payment = models.BooleanField(_("online payment"), default=False)
    # The desk may return the result only once the fee is settled (issue 14, item 5).
    fee_before_result = models.BooleanField(_("fee settled before the result"), default=False)
    # 2: online submission needs a level-2 VNeID identity (verified name, ID number, address).
    identity_level_required = models.PositiveSmallIntegerField(
        _("identity level required"), default=0, choices=[(0, "—"), (1, "1"), (2, "2")]
    )
    result = models.CharField(_("result"), max_length=500, blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    conditions = models.TextField(_("conditions"), blank=True)
    is_published = models.BooleanField(_("published"), default=False, db_index=True)
    published_version = models.ForeignKey(
        "ProcedureVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    has_unpublished_changes = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["sector", "name"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def accepts_online(self) -> bool:
        return self.is_published and self.online_submission and self.online_mode != "none"


class ProcedureComponent(models.Model):
    procedure = models.ForeignKey(
        AgencyProcedure, on_delete=models.CASCADE, related_name="components"
    )
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("name"), max_length=500)
    required = models.BooleanField(_("required"), default=True)
    max_files = models.PositiveSmallIntegerField(_("maximum files"), default=1)
    from_catalog = models.BooleanField(default=True)
    required_by_catalog = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "position"], name="component_position")
        ]

    def __str__(self) -> str:
        return self.name


class ProcedureField(models.Model):
    procedure = models.ForeignKey(AgencyProcedure, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveSmallIntegerField()
    key = models.CharField(_("key"), max_length=40)
    label = models.CharField(_("label"), max_length=500)
    type = models.CharField(
        _("type"), max_length=10, choices=[(t, t) for t in FIELD_TYPES], default="text"
    )
    required = models.BooleanField(_("required"), default=False)
    choices = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    pattern = models.CharField(_("pattern"), max_length=200, blank=True)
    # Bounds of a number field (catalog.spec.FormField): none declared, no negative number.
    min_value = models.FloatField(_("minimum"), null=True, blank=True)
    max_value = models.FloatField(_("maximum"), null=True, blank=True)
    from_catalog = models.BooleanField(default=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "key"], name="field_key_unique"),
            models.UniqueConstraint(fields=["procedure", "position"], name="field_position"),
        ]

    def __str__(self) -> str:
        return self.label


class ProcedureStep(models.Model):
    procedure = models.ForeignKey(AgencyProcedure, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("name"), max_length=300)
    role = models.CharField(
        _("role"), max_length=20, choices=[(r, r) for r in STEP_ROLES], default="officer"
    )
    days = models.PositiveSmallIntegerField(_("time budget (working days)"), default=0)
    transfer = models.BooleanField(_("inter-agency transfer"), default=False)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "position"], name="step_position")
        ]

    def __str__(self) -> str:
        return self.name


class ProcedureVersion(models.Model):
    """What citizens submitted under: frozen at publication, never changed afterwards."""

    procedure = models.ForeignKey(
        AgencyProcedure, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    catalog_version = models.PositiveIntegerField()
    spec_json: models.JSONField[dict[str, Any]] = models.JSONField()
    online_submission = models.BooleanField()
    online_payment = models.BooleanField()
    published_at = models.DateTimeField(auto_now_add=True)
    published_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["procedure", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="procedure_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.procedure.code} v{self.number}"

    @cached_property
    def spec(self) -> ProcedureSpec:
        return spec_from_json(self.spec_json)
