"""Statistics rollups. Public schema.

One row per (agency, local day, procedure, sector, metric), and the same per month, holds
how many dossier events of that kind happened (``n``) and, where a metric has a measure, its
sum (``total``: processing days for a resolution, the score for a rating). Rows are bumped by
an upsert in the same transaction as the dossier event (``reports.services``), so province
and provider dashboards read these tables and never loop over agency schemas.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    RECEIVED_ONLINE = "received_online", _("Received online")
    RECEIVED_DESK = "received_desk", _("Received at the desk")
    RECEIVED_POST = "received_post", _("Received by post")
    RECEIVED_NATIONAL_PORTAL = "received_national_portal", _("Received via the national portal")
    FEE_DUE = "fee_due", _("Received with a fee")
    RESOLVED_EARLY = "resolved_early", _("Resolved early")
    RESOLVED_ON_TIME = "resolved_on_time", _("Resolved on time")
    RESOLVED_LATE = "resolved_late", _("Resolved late")
    TRANSFERRED = "transferred", _("Transferred")
    SUPPLEMENT_PAUSED = "supplement_paused", _("Paused for a supplement")
    REFUSED = "refused", _("Refused at reception")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    STOPPED = "stopped", _("Processing stopped")
    PAID_ONLINE = "paid_online", _("Fee paid online")
    RATED = "rated", _("Rated")


RECEIVED_BY_CHANNEL = {
    "online": Metric.RECEIVED_ONLINE,
    "desk": Metric.RECEIVED_DESK,
    "post": Metric.RECEIVED_POST,
    "national_portal": Metric.RECEIVED_NATIONAL_PORTAL,
}


class StatRow(models.Model):
    agency = models.ForeignKey(
        "tenants.Agency", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # Copied from the agency so province figures need no join.
    province_code = models.CharField(max_length=3)
    procedure_code = models.CharField(max_length=40)
    sector = models.CharField(max_length=150)
    metric = models.CharField(max_length=30, choices=Metric.choices)
    n = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class DailyAgencyStat(StatRow):
    day = models.DateField()

    class Meta:
        verbose_name = _("daily statistic")
        verbose_name_plural = _("daily statistics")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "day", "procedure_code", "sector", "metric"],
                name="reports_stat_key",
            )
        ]
        indexes = [
            models.Index(fields=["province_code", "day"], name="reports_stat_province_day"),
            models.Index(fields=["day"], name="reports_stat_day"),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.day} {self.procedure_code} {self.metric}={self.n}"


class MonthlyAgencyStat(StatRow):
    """The same figures per calendar month (``month`` is its first day), bumped by the same
    statement: periods made of whole months read thirty times fewer rows."""

    month = models.DateField()

    class Meta:
        verbose_name = _("monthly statistic")
        verbose_name_plural = _("monthly statistics")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "month", "procedure_code", "sector", "metric"],
                name="reports_month_key",
            )
        ]
        indexes = [
            models.Index(fields=["province_code", "month"], name="reports_month_province"),
            models.Index(fields=["month"], name="reports_month"),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.month:%Y-%m} {self.procedure_code} {self.metric}={self.n}"
