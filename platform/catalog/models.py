"""The national catalog of administrative procedures, versioned. Public schema."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from catalog.spec import ProcedureSpec, spec_from_json


class Sector(models.Model):
    """A field of state management (lĩnh vực), e.g. Hộ tịch."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CatalogProcedure(models.Model):
    """One administrative procedure (thủ tục hành chính) with its national code."""

    code = models.CharField(_("national code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=500)
    name_en = models.CharField(_("English name"), max_length=500, blank=True)
    sector = models.ForeignKey(Sector, on_delete=models.PROTECT, related_name="procedures")
    agency_kinds = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    latest_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("catalog procedure")
        verbose_name_plural = _("catalog procedures")
        ordering = ["sector__name", "code"]
        indexes = [models.Index(fields=["agency_kinds"], name="catalog_kinds_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CatalogVersion(models.Model):
    """An immutable version of a procedure's content, with the date it takes effect."""

    procedure = models.ForeignKey(
        CatalogProcedure, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    effective_from = models.DateField(_("effective from"))
    content: models.JSONField[dict[str, Any]] = models.JSONField()
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("catalog version")
        ordering = ["procedure", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="catalog_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.procedure.code} v{self.number}"

    @cached_property
    def spec(self) -> ProcedureSpec:
        return spec_from_json(self.content)
