"""Agencies (the tenants), their hostnames and the migration state of every schema.

All three tables live in the public schema. Writes go through
``tenants.services``; these classes only describe data.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

from tenants.validators import validate_hostname, validate_schema_name, validate_slug


class AgencyKind(models.TextChoices):
    DEPARTMENT = "department", _("Department (Sở, ban, ngành)")
    DISTRICT = "district", _("District (quận/huyện)")
    COMMUNE = "commune", _("Commune / ward (xã/phường/đặc khu)")
    SERVICE_CENTRE = "service_centre", _("Public service centre")
    OTHER = "other", _("Other agency")


class AgencyStatus(models.TextChoices):
    PROVISIONING = "provisioning", _("Provisioning")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    OFFBOARDED = "offboarded", _("Offboarded")
    MERGED = "merged", _("Merged into another agency")


def default_cluster_name() -> str:
    """The main cluster's name (``DATABASE_CLUSTER_NAME``): where agencies lived before."""
    from django.conf import settings

    return str(getattr(settings, "DATABASE_CLUSTER_NAME", "main") or "main")


class AgencyQuerySet(models.QuerySet["Agency"]):
    def servable(self) -> AgencyQuerySet:
        """Agencies whose portal answers requests (suspended ones still let citizens track)."""
        return self.filter(status__in=[AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED])


class Agency(TenantMixin):
    """A government agency renting the service: one PostgreSQL schema each."""

    # The provisioning service creates (clones) the schema explicitly, inside
    # its own transaction; a bare save() never touches the database structure.
    auto_create_schema = False
    auto_drop_schema = False

    slug = models.CharField(_("slug"), max_length=50, unique=True, validators=[validate_slug])
    name = models.CharField(_("display name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=20, choices=AgencyKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent agency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    admin_unit_code = models.CharField(
        _("official admin-unit code"),
        max_length=10,
        blank=True,
        help_text=_("Code of the commune/ward (or province) from the national list."),
    )
    province_code = models.CharField(_("province code"), max_length=3, db_index=True)
    code = models.CharField(
        _("agency code"),
        max_length=20,
        blank=True,
        help_text=_("Short code that opens every dossier code, e.g. “STP” or “10510”."),
    )
    dossier_code_pattern = models.CharField(
        _("dossier code pattern"),
        max_length=60,
        default="{code}-{yymmdd}-{seq:04}",
        help_text=_("Tokens: {code} {yyyy} {yy} {mm} {dd} {yymmdd} {seq} or {seq:N} (N digits)."),
    )
    staff_vneid_required = models.BooleanField(
        _("staff sign in with VNeID"),
        default=False,
        help_text=_(
            "The agency's staff reach the desk and its administration only after "
            "signing in with VNeID."
        ),
    )
    # The PostgreSQL cluster holding the agency's schema (tenants.clusters); chosen when the
    # agency is created (its province's cluster, else the placement policy).
    cluster = models.CharField(
        _("database cluster"), max_length=40, default=default_cluster_name, db_index=True
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AgencyStatus.choices,
        default=AgencyStatus.PROVISIONING,
        db_index=True,
    )
    # Set when the agency was merged into another (reorg): its hosts redirect there.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    activated_at = models.DateTimeField(_("went live"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects: ClassVar[AgencyQuerySet] = AgencyQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["province_code", "kind", "name"]
        indexes = [models.Index(fields=["province_code", "kind", "status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_servable(self) -> bool:
        return self.status in (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED)


class DomainKind(models.TextChoices):
    PLATFORM = "platform", _("Platform subdomain")
    CUSTOM = "custom", _("Custom domain")


class Domain(DomainMixin):
    """A hostname that routes to one agency."""

    kind = models.CharField(max_length=10, choices=DomainKind.choices, default=DomainKind.PLATFORM)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def clean(self) -> None:
        self.domain = self.domain.lower()
        validate_hostname(self.domain)


class ClusterPlacement(models.Model):
    """The provider's choice: new agencies of this province go to this cluster."""

    province_code = models.CharField(_("province code"), max_length=3, unique=True)
    cluster = models.CharField(_("database cluster"), max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("cluster placement")
        verbose_name_plural = _("cluster placements")

    def __str__(self) -> str:
        return f"{self.province_code} → {self.cluster}"


class SchemaState(models.Model):
    """What has been applied to one schema (an agency's, or the template).

    ``fingerprint`` identifies the set of tenant migrations on disk when the
    schema was last brought up to date; ``migrate_agencies`` skips schemas
    whose fingerprint matches the code without opening a migration run.
    Kept by each cluster in its own public schema, about its own schemas
    (``tenants.clusters.CLUSTER_LOCAL_MODELS``).
    """

    schema_name = models.CharField(max_length=63, unique=True, validators=[validate_schema_name])
    fingerprint = models.CharField(max_length=64)
    migrations_applied = models.PositiveIntegerField(default=0)
    created_via = models.CharField(
        max_length=10, choices=[("clone", "clone"), ("migrate", "migrate")], default="migrate"
    )
    # For the template only: its DDL, captured when it was last built, replayed to
    # create each new agency schema (tenants.snapshot). Empty: use the clone function.
    clone_sql = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("schema state")

    def __str__(self) -> str:
        return f"{self.schema_name} @ {self.fingerprint[:12]}"


class AgencyEvent(models.Model):
    """Append-only lifecycle history of an agency (created, provisioned, suspended, ...)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)
    actor_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.agency_id}: {self.event}"

    @property
    def label(self) -> str:
        """What happened, in the reader's language (an unknown code shows as itself)."""
        return str(AGENCY_EVENT_LABELS.get(self.event, self.event))


# Every code tenants.services.agency_event_record is given (a test keeps the list complete).
AGENCY_EVENT_LABELS = {
    "created": _("Agency created"),
    "provisioned": _("Database schema provisioned"),
    "schema_recreated": _("Database schema recreated"),
    "status_changed": _("Status changed"),
    "domain_added": _("Hostname added"),
    "domain_removed": _("Hostname removed"),
    "dossier_code_pattern_changed": _("Dossier code pattern changed"),
    "exit_pack_downloaded": _("Exit pack downloaded"),
    "imported": _("Imported from an exit pack"),
    "offboarded": _("Offboarded"),
    "merge_planned": _("Merge planned"),
    "merged": _("Merged into another agency"),
    "merged_in": _("Another agency merged in"),
    "merge_finished": _("Merge finished"),
    "split_planned": _("Split planned"),
    "split_finished": _("Split finished"),
}
