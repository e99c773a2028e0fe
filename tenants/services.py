"""Every write to agencies, their domains and their schemas goes through these services.

Provisioning contract: ``agency_provision`` either leaves a complete, migrated
schema and an active agency, or changes nothing. Re-running it for the same
agency finishes or repairs, never duplicates. The management command, the
Celery task and the onboarding pipeline all call this one function.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.failpoints import failpoint
from tenants import clusters, schemas
from tenants.db import connection
from tenants.models import (
    Agency,
    AgencyEvent,
    AgencyKind,
    AgencyStatus,
    Domain,
    DomainKind,
    SchemaState,
)
from tenants.validators import (
    schema_name_for_slug,
    validate_agency_code,
    validate_hostname,
    validate_schema_name,
    validate_slug,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProvisionResult:
    agency: Agency
    created_via: str  # "clone", "migrate" or "existing"
    seconds: float
    repaired: bool = False


def default_agency_code(slug: str, admin_unit_code: str = "") -> str:
    """The official unit code for communes, else the initials of the slug (so-tu-phap → STP)."""
    if admin_unit_code and admin_unit_code.isdigit() and len(admin_unit_code) == 5:
        return admin_unit_code
    return "".join(part[0] for part in slug.split("-") if part)[:12].upper()


def platform_hostname(slug: str) -> str:
    return f"{slug}.{settings.PLATFORM_BASE_DOMAIN}"


def agency_event_record(
    agency: Agency, event: str, *, actor_email: str = "", **detail: Any
) -> None:
    """A line of the agency's lifecycle history (public schema), in the caller's transaction."""
    AgencyEvent.objects.create(agency=agency, event=event, detail=detail, actor_email=actor_email)


# -- Agencies ----------------------------------------------------------------------------


def agency_create(
    *,
    slug: str,
    name: str,
    kind: str,
    province_code: str,
    admin_unit_code: str = "",
    parent: Agency | None = None,
    code: str = "",
    actor_email: str = "",
    cluster: str = "",
) -> Agency:
    """Register an agency (status: provisioning) with its platform hostname.

    Validates everything before writing; a refused agency changes nothing.
    The schema is created afterwards by ``agency_provision``, on ``cluster``: the one given
    (the provider's choice), else its province's or the placement policy's
    (``tenants.clusters.cluster_for_new_agency``).
    """
    slug = slug.strip()
    validate_slug(slug)
    schema_name = schema_name_for_slug(slug)
    validate_schema_name(schema_name)
    if kind not in AgencyKind.values:
        raise ValidationError(
            _("Unknown agency kind “%(kind)s”."), code="invalid", params={"kind": kind}
        )
    if not name.strip():
        raise ValidationError(_("The agency needs a display name."), code="required")
    code = (code or default_agency_code(slug, admin_unit_code)).strip().upper()
    validate_agency_code(code)
    hostname = platform_hostname(slug)
    validate_hostname(hostname)
    if (
        Agency.objects.filter(slug=slug).exists()
        or Agency.objects.filter(schema_name__iexact=schema_name).exists()
    ):
        raise ValidationError(
            _("An agency with the slug “%(slug)s” already exists."),
            code="duplicate",
            params={"slug": slug},
        )
    if cluster:
        clusters.validate_cluster(cluster)
    else:
        cluster = clusters.cluster_for_new_agency(province_code=str(province_code))
    if Domain.objects.filter(domain=hostname).exists():
        raise ValidationError(
            _("The hostname “%(host)s” is already in use."),
            code="duplicate",
            params={"host": hostname},
        )
    try:
        with transaction.atomic():
            agency = Agency(
                schema_name=schema_name,
                slug=slug,
                name=name.strip(),
                kind=kind,
                province_code=str(province_code),
                admin_unit_code=str(admin_unit_code or ""),
                parent=parent,
                code=code,
                cluster=cluster,
                status=AgencyStatus.PROVISIONING,
            )
            agency.save()
            Domain.objects.create(
                domain=hostname, tenant=agency, is_primary=True, kind=DomainKind.PLATFORM
            )
            detail = {"cluster": cluster} if clusters.is_multi() else {}
            agency_event_record(
                agency, "created", actor_email=actor_email, slug=slug, kind=kind, **detail
            )
    except IntegrityError as exc:
        # Lost a race with a concurrent request for the same slug or hostname.
        raise ValidationError(
            _("An agency with the slug “%(slug)s” or the hostname “%(host)s” already exists."),
            code="duplicate",
            params={"slug": slug, "host": hostname},
        ) from exc
    return agency


def template_ensure(*, verbosity: int = 0) -> SchemaState:
    """Create or bring up to date the template schema new agencies are cloned from.

    Whenever the template changes (or has no snapshot yet), its DDL is captured
    again (``tenants.snapshot``) and compiled into the clone function the
    application role provisions with (``tenants.privileges``), so cloning
    replays plain DDL instead of walking the catalog for every new agency.
    Changing the template needs the owner role.
    """
    fingerprint = schemas.migration_fingerprint()
    with transaction.atomic():
        schemas.advisory_lock(schemas.TEMPLATE_SCHEMA)
        state = SchemaState.objects.filter(schema_name=schemas.TEMPLATE_SCHEMA).first()
        exists = schemas.schema_exists(schemas.TEMPLATE_SCHEMA)
        if state and exists and state.fingerprint == fingerprint:
            if not state.clone_sql:
                state.clone_sql = schemas.template_snapshot_sql()
                state.save(update_fields=["clone_sql", "updated_at"])
            schemas.template_clone_function_ensure(state.clone_sql)
            return state
        if exists and state is None:
            # The state row is gone but the schema may be fine: trust what it records.
            applied = schemas.applied_migrations(schemas.TEMPLATE_SCHEMA)
            if schemas.migration_fingerprint(applied) == fingerprint:
                state = SchemaState.objects.create(
                    schema_name=schemas.TEMPLATE_SCHEMA,
                    fingerprint=fingerprint,
                    migrations_applied=len(applied),
                    clone_sql=schemas.template_snapshot_sql(),
                )
                schemas.template_clone_function_ensure(state.clone_sql)
                return state
        if exists:
            schemas.migrate_schema(schemas.TEMPLATE_SCHEMA, verbosity=verbosity)
        else:
            schemas.create_schema_by_migration(schemas.TEMPLATE_SCHEMA, verbosity=verbosity)
        applied = schemas.applied_migrations(schemas.TEMPLATE_SCHEMA)
        schemas.install_clone_function()
        state, _created = SchemaState.objects.update_or_create(
            schema_name=schemas.TEMPLATE_SCHEMA,
            defaults={
                "fingerprint": schemas.migration_fingerprint(applied),
                "migrations_applied": len(applied),
                "created_via": "migrate",
                "clone_sql": schemas.template_snapshot_sql(),
            },
        )
        schemas.template_clone_function_ensure(state.clone_sql)
    return state


def _current_template(fingerprint: str) -> SchemaState | None:
    """The template's state if the template exists and matches the code, else None."""
    state = SchemaState.objects.filter(schema_name=schemas.TEMPLATE_SCHEMA).first()
    if (
        state is not None
        and state.fingerprint == fingerprint
        and schemas.schema_exists(schemas.TEMPLATE_SCHEMA)
    ):
        return state
    return None


def _template_is_current(fingerprint: str) -> bool:
    return _current_template(fingerprint) is not None


def agency_provision(*, agency: Agency, use_template: bool = True) -> ProvisionResult:
    """Create the agency's schema (clone of the template, else migrations) and activate it.

    On the main cluster, one transaction: a crash at any point leaves no schema and the
    agency still in ``provisioning``; the next call starts clean. A schema left behind by an
    earlier, non-transactional attempt is dropped and rebuilt (the agency never went live,
    so it holds no data). An agency placed on another cluster gets its schema there
    (``_agency_provision_on_cluster``).
    """
    if clusters.is_multi() and agency.cluster != clusters.main_name():
        return _agency_provision_on_cluster(agency=agency, use_template=use_template)
    started = time.perf_counter()
    connection.set_schema_to_public()
    fingerprint = schemas.migration_fingerprint()
    _template_refresh_if_stale(fingerprint, use_template)
    with transaction.atomic():
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        schemas.advisory_lock(agency.schema_name)
        _refuse_offboarded(agency)
        built = _schema_build(agency, fingerprint=fingerprint, use_template=use_template)
        if built is None:
            return ProvisionResult(agency, "existing", time.perf_counter() - started)
        via, repaired = built
        seconds = _agency_activate(agency, via=via, repaired=repaired, started=started)
    return ProvisionResult(agency, via, seconds, repaired)


def _agency_provision_on_cluster(*, agency: Agency, use_template: bool) -> ProvisionResult:
    """Provision an agency whose schema lives on another cluster than the control plane.

    Two transactions, in this order: the schema and its state on the agency's cluster, then
    the agency's status and history on the control plane. A crash between them leaves a
    complete schema and an agency still provisioning: the next call finds the schema
    complete and only activates (idempotent, as on the main cluster).
    """
    started = time.perf_counter()
    clusters.home()
    agency = Agency.objects.get(pk=agency.pk)
    _refuse_offboarded(agency)
    fingerprint = schemas.migration_fingerprint()
    with clusters.on_cluster(agency.cluster):
        _template_refresh_if_stale(fingerprint, use_template)
        with transaction.atomic():
            schemas.advisory_lock(agency.schema_name)
            built = _schema_build(agency, fingerprint=fingerprint, use_template=use_template)
    failpoint("provision.between_clusters")  # the schema committed, the agency not yet live
    if built is None:
        return ProvisionResult(agency, "existing", time.perf_counter() - started)
    via, repaired = built
    with transaction.atomic():
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        _refuse_offboarded(agency)
        seconds = _agency_activate(agency, via=via, repaired=repaired, started=started)
    return ProvisionResult(agency, via, seconds, repaired)


def _template_refresh_if_stale(fingerprint: str, use_template: bool) -> None:
    if (
        use_template
        and not _template_is_current(fingerprint)
        and schemas.schema_exists(schemas.TEMPLATE_SCHEMA)
    ):
        template_ensure()  # stale template: bring it up to date once, then clone


def _refuse_offboarded(agency: Agency) -> None:
    if agency.status == AgencyStatus.OFFBOARDED:
        raise ValidationError(
            _("Agency “%(name)s” has been offboarded and cannot be provisioned again."),
            code="offboarded",
            params={"name": agency.name},
        )


def _schema_build(
    agency: Agency, *, fingerprint: str, use_template: bool
) -> tuple[str, bool] | None:
    """Make the agency's schema complete on the connection's cluster, with its SchemaState.

    Returns (how it was made, whether a half-made one was repaired), or None when a live
    agency's schema was complete already. In the caller's transaction.
    """
    state = SchemaState.objects.filter(schema_name=agency.schema_name).first()
    exists = schemas.schema_exists(agency.schema_name)
    complete = exists and state is not None and state.fingerprint == fingerprint
    if agency.status != AgencyStatus.PROVISIONING and complete:
        return None

    repaired = False
    if exists and not complete:
        if agency.status != AgencyStatus.PROVISIONING:
            # A live agency's schema is never dropped: migrate it instead.
            schemas.migrate_schema(agency.schema_name)
        else:
            logger.warning("dropping half-made schema %s before rebuilding", agency.schema_name)
            schemas.drop_agency_schema(agency.schema_name)
            exists = False
        repaired = True

    via = "existing"
    if not exists:
        template = _current_template(fingerprint) if use_template else None
        if template is not None:
            schemas.clone_template(agency.schema_name)
            via = "clone"
        else:
            schemas.create_schema_by_migration(agency.schema_name)
            via = "migrate"
    failpoint("provision.after_schema")

    applied = schemas.applied_migrations(agency.schema_name)
    if schemas.migration_fingerprint(applied) != fingerprint:
        schemas.migrate_schema(agency.schema_name)
        applied = schemas.applied_migrations(agency.schema_name)
    SchemaState.objects.update_or_create(
        schema_name=agency.schema_name,
        defaults={
            "fingerprint": schemas.migration_fingerprint(applied),
            "migrations_applied": len(applied),
            "created_via": via if via != "existing" else "migrate",
        },
    )
    return via, repaired


def _agency_activate(agency: Agency, *, via: str, repaired: bool, started: float) -> float:
    """Mark a provisioned agency live and record it (control plane, caller's transaction)."""
    if agency.status == AgencyStatus.PROVISIONING:
        agency.status = AgencyStatus.ACTIVE
        agency.activated_at = timezone.now()
        agency.save(update_fields=["status", "activated_at", "updated_at"])
    seconds = time.perf_counter() - started
    detail = {"cluster": agency.cluster} if clusters.is_multi() else {}
    agency_event_record(
        agency, "provisioned", via=via, repaired=repaired, seconds=round(seconds, 3), **detail
    )
    failpoint("provision.before_commit")
    return seconds


def agency_set_status(
    *, agency: Agency, status: str, actor_email: str = "", reason: str = ""
) -> Agency:
    """Suspend, reactivate or mark offboarded; every change is recorded."""
    allowed = {
        AgencyStatus.ACTIVE: {AgencyStatus.SUSPENDED, AgencyStatus.OFFBOARDED},
        AgencyStatus.SUSPENDED: {AgencyStatus.ACTIVE, AgencyStatus.OFFBOARDED},
        AgencyStatus.PROVISIONING: {AgencyStatus.OFFBOARDED},
        AgencyStatus.OFFBOARDED: set(),
    }
    with transaction.atomic():
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        if status not in allowed[AgencyStatus(agency.status)]:
            raise ValidationError(
                _("An agency cannot go from “%(old)s” to “%(new)s”."),
                code="transition",
                params={"old": agency.get_status_display(), "new": status},
            )
        old = agency.status
        agency.status = status
        agency.save(update_fields=["status", "updated_at"])
        agency_event_record(
            agency, "status_changed", actor_email=actor_email, old=old, new=status, reason=reason
        )
    return agency


def agency_mark_merged(*, agency: Agency, into: Agency, actor_email: str = "") -> Agency:
    """The agency was merged into ``into`` (reorg): its hosts redirect there from now on."""
    with transaction.atomic():
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        if agency.status == AgencyStatus.MERGED and agency.merged_into_id == into.pk:
            return agency  # already done (a merge re-run)
        old = agency.status
        agency.status = AgencyStatus.MERGED
        agency.merged_into = into
        agency.save(update_fields=["status", "merged_into", "updated_at"])
        agency_event_record(agency, "merged", actor_email=actor_email, old=old, into=into.slug)
        agency_event_record(into, "merged_in", actor_email=actor_email, source=agency.slug)
    return agency


# -- Domains ------------------------------------------------------------------------------


def domain_add(*, agency: Agency, hostname: str, make_primary: bool = False) -> Domain:
    """Attach a custom hostname to an agency. Refuses duplicates and platform hostnames."""
    host = hostname.strip().lower().rstrip(".")
    validate_hostname(host)
    base = settings.PLATFORM_BASE_DOMAIN
    if host == base or host.endswith("." + base) or host in settings.PLATFORM_PUBLIC_HOSTS:
        raise ValidationError(
            _("“%(host)s” belongs to the platform; a custom domain must be the agency's own."),
            code="platform_host",
            params={"host": host},
        )
    with transaction.atomic():
        if Domain.objects.select_for_update().filter(domain=host).exists():
            raise ValidationError(
                _("The hostname “%(host)s” is already in use."),
                code="duplicate",
                params={"host": host},
            )
        domain = Domain.objects.create(
            domain=host, tenant=agency, is_primary=make_primary, kind=DomainKind.CUSTOM
        )
        agency_event_record(agency, "domain_added", hostname=host)
    return domain


def domain_remove(*, agency: Agency, hostname: str) -> None:
    host = hostname.strip().lower()
    with transaction.atomic():
        domain = Domain.objects.select_for_update().filter(domain=host, tenant=agency).first()
        if domain is None:
            raise ValidationError(
                _("“%(host)s” is not a hostname of this agency."),
                code="not_found",
                params={"host": host},
            )
        if domain.kind == DomainKind.PLATFORM:
            raise ValidationError(
                _("The platform hostname of an agency cannot be removed."), code="platform_host"
            )
        was_primary = domain.is_primary
        domain.delete()
        if was_primary:
            Domain.objects.filter(tenant=agency, kind=DomainKind.PLATFORM).update(is_primary=True)
        agency_event_record(agency, "domain_removed", hostname=host)


# -- Migrations across every agency --------------------------------------------------------


@dataclass
class MigrationReport:
    total: int = 0
    migrated: list[str] | None = None
    skipped: int = 0
    failed: dict[str, str] | None = None
    seconds: float = 0.0
    missing: list[str] | None = None  # recorded as live, but the schema is gone
    recreated: list[str] | None = None  # ... and recreated (empty) with ``repair_missing``


def agencies_migrate(
    *,
    verify: bool = False,
    repair_missing: bool = False,
    only: list[str] | None = None,
    progress: Callable[[int, int, str, str], None] | None = None,
    cluster: str = "",
) -> MigrationReport:
    """Apply pending tenant migrations to the template and every agency schema.

    A schema whose recorded fingerprint equals the code's has nothing to apply
    and is skipped without a migration run: one query decides for all of them.
    ``verify`` also reads each schema's own django_migrations (in bulk) to catch
    drift made outside this command. A failing schema is reported and the rest
    go on; its state is left as it was, so the next run retries it.

    The per-schema state is not trusted blindly: a live agency whose schema no
    longer exists (dropped by hand, restored from a partial backup) is reported
    in ``missing`` and never counted as up to date. Its data is gone, so it is
    recreated (empty, from the template) only when ``repair_missing`` says so.

    ``cluster``: the agencies placed on that cluster, migrated there (its template, its
    schemas, its ``SchemaState``); the agency list itself comes from the control plane.
    """
    started = time.perf_counter()
    if clusters.is_multi():
        cluster = cluster or clusters.main_name()
        clusters.home()
    else:
        cluster = ""
    agencies = Agency.objects.exclude(status=AgencyStatus.OFFBOARDED).exclude(
        status=AgencyStatus.PROVISIONING
    )
    if cluster:
        agencies = agencies.filter(cluster=cluster)
    if only:
        agencies = agencies.filter(schema_name__in=only)
    names = list(agencies.order_by("schema_name").values_list("schema_name", flat=True))
    if cluster and cluster != clusters.main_name():
        with clusters.on_cluster(cluster):
            report = _schemas_migrate(names, verify, repair_missing, progress, cluster=cluster)
    else:
        report = _schemas_migrate(names, verify, repair_missing, progress, cluster="")
    report.seconds = time.perf_counter() - started
    return report


def _schemas_migrate(
    names: list[str],
    verify: bool,
    repair_missing: bool,
    progress: Callable[[int, int, str, str], None] | None,
    *,
    cluster: str,
) -> MigrationReport:
    """agencies_migrate's work on the connection's cluster, for the given agency schemas."""
    connection.set_schema_to_public()
    template_ensure()
    fingerprint = schemas.migration_fingerprint()
    existing = set(schemas.list_schemas())  # one query, whatever the number of schemas
    missing = [name for name in names if name not in existing]
    names = [name for name in names if name in existing]
    states = dict(
        SchemaState.objects.filter(schema_name__in=names).values_list("schema_name", "fingerprint")
    )
    pending = [name for name in names if states.get(name) != fingerprint]
    if verify:
        disk = schemas.tenant_migrations_on_disk()
        recorded = schemas.applied_migrations_bulk([n for n in names if n not in pending])
        pending += [name for name, applied in recorded.items() if applied != disk]
        pending.sort()
    report = MigrationReport(
        total=len(names) + len(missing),
        migrated=[],
        failed={},
        skipped=len(names) - len(pending),
        missing=missing,
        recreated=[],
    )
    assert report.migrated is not None and report.failed is not None
    assert report.recreated is not None
    for name in missing if repair_missing else []:
        try:
            _schema_recreate(name, cluster=cluster)
        except Exception as exc:
            logger.exception("recreating schema %s failed", name)
            report.failed[name] = repr(exc)[:500]
            connection.set_schema_to_public()
            continue
        report.recreated.append(name)
        if progress:
            progress(len(report.recreated), len(missing), name, "recreated")
    for index, name in enumerate(pending, start=1):
        if progress:
            progress(index, len(pending), name, "migrating")
        try:
            with transaction.atomic():
                schemas.advisory_lock(name)
                schemas.migrate_schema(name)
                applied = schemas.applied_migrations(name)
                SchemaState.objects.update_or_create(
                    schema_name=name,
                    defaults={
                        "fingerprint": schemas.migration_fingerprint(applied),
                        "migrations_applied": len(applied),
                    },
                )
        except Exception as exc:
            logger.exception("migrating schema %s failed", name)
            report.failed[name] = repr(exc)[:500]
            connection.set_schema_to_public()
            if progress:
                progress(index, len(pending), name, "failed")
            continue
        report.migrated.append(name)
        if progress:
            progress(index, len(pending), name, "done")
    return report


def _schema_recreate(schema_name: str, *, cluster: str = "") -> None:
    """Build a live agency's vanished schema again (empty), recorded in its history.

    On another cluster than the control plane (``cluster``, inside ``on_cluster``): the
    schema there, then the history line on the control plane.
    """
    if cluster:
        via = _schema_recreate_here(schema_name)
        if via is not None:
            with clusters.control_plane():
                agency = Agency.objects.get(schema_name=schema_name)
                agency_event_record(agency, "schema_recreated", via=via, cluster=cluster)
        return
    with transaction.atomic():
        agency = Agency.objects.select_for_update().get(schema_name=schema_name)
        via = _schema_build_locked(schema_name)
        if via is not None:
            agency_event_record(agency, "schema_recreated", via=via)


def _schema_recreate_here(schema_name: str) -> str | None:
    """The schema again on the connection's cluster, in a transaction of its own; how, or None."""
    with transaction.atomic():
        return _schema_build_locked(schema_name)


def _schema_build_locked(schema_name: str) -> str | None:
    """Inside the caller's transaction: the schema from the template (else by migrations)
    under its advisory lock, with its state row; how it was made, or None if it exists."""
    schemas.advisory_lock(schema_name)
    if schemas.schema_exists(schema_name):
        return None
    if _current_template(schemas.migration_fingerprint()) is not None:
        schemas.clone_template(schema_name)
        via = "clone"
    else:
        schemas.create_schema_by_migration(schema_name)
        via = "migrate"
    applied = schemas.applied_migrations(schema_name)
    SchemaState.objects.update_or_create(
        schema_name=schema_name,
        defaults={
            "fingerprint": schemas.migration_fingerprint(applied),
            "migrations_applied": len(applied),
            "created_via": via,
        },
    )
    return via
