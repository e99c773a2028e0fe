"""Read-side queries of onboarding: application lists, province coverage, go-live checklists."""

from __future__ import annotations

import datetime as dt
import functools
import statistics
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, Role
from onboarding.models import RUNNING_STATES, Application, ApplicationState
from tenants.models import Agency, AgencyKind, AgencyStatus
from tenants.units import communes_of, provinces


def application_list(
    *,
    province_code: str | None = None,
    kind: str | None = None,
    state: str | None = None,
    search: str = "",
) -> QuerySet[Application]:
    qs = Application.objects.select_related("agency", "billing_account")
    if province_code:
        qs = qs.filter(province_code=province_code)
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(slug__icontains=search)
            | Q(admin_unit_code=search)
            | Q(admin_email__icontains=search)
        )
    return qs.order_by("province_code", "kind", "name")


def application_stuck(application: Application, *, now: dt.datetime | None = None) -> bool:
    """Provisioning, but no step has started or finished for a while: its tasks are lost
    (a broker that dropped them, a worker killed mid-chain) and it needs a retry."""
    if application.state not in RUNNING_STATES:
        return False
    quiet_since = (now or timezone.now()) - timedelta(
        seconds=settings.ONBOARDING_STUCK_AFTER_SECONDS
    )
    return application.updated_at < quiet_since


def application_progress(application: Application) -> dict[str, object]:
    """What the console's live progress shows (and its JSON endpoint returns)."""
    return {
        "stuck": application_stuck(application),
        "id": application.pk,
        "state": application.state,
        "state_label": str(application.get_state_display()),
        "step": application.step,
        "steps_done": list(application.steps_done),
        "percent": application.percent,
        "error": application.error,
        "notes": list(application.notes),
        "finished": application.state
        in (ApplicationState.LIVE, ApplicationState.FAILED, ApplicationState.REJECTED),
    }


# -- Coverage --------------------------------------------------------------------------------


@dataclass
class KindCoverage:
    kind: str
    label: str
    live: int
    total: int


@dataclass
class ProvinceCoverage:
    province_code: str
    name: str
    kinds: list[KindCoverage] = field(default_factory=list)
    median_to_live: timedelta | None = None

    @property
    def live(self) -> int:
        return sum(k.live for k in self.kinds)

    @property
    def total(self) -> int:
        return sum(k.total for k in self.kinds)

    @property
    def percent(self) -> int:
        return int(100 * self.live / self.total) if self.total else 0


def coverage_by_province() -> list[ProvinceCoverage]:
    """Per province with any agency or application: live/total by kind, median time to live.

    Communes count against the official list; other kinds against the agencies and open
    applications the province has. An agency counts as live when it is active and its
    application (if any) went live.
    """
    names = provinces()
    counts: dict[tuple[str, str], list[int]] = {}
    pending = Application.objects.filter(agency__isnull=True).exclude(
        state__in=[ApplicationState.REJECTED, ApplicationState.OFFBOARDED]
    )
    for province, kind in pending.values_list("province_code", "kind"):
        counts.setdefault((province, kind), [0, 0])[1] += 1
    agencies = Agency.objects.exclude(status=AgencyStatus.OFFBOARDED).values_list(
        "province_code", "kind", "status", "application__state"
    )
    for province, kind, status, app_state in agencies:
        entry = counts.setdefault((province, kind), [0, 0])
        entry[1] += 1
        if status == AgencyStatus.ACTIVE and app_state in (None, ApplicationState.LIVE):
            entry[0] += 1
    durations: dict[str, list[float]] = {}
    for app in Application.objects.filter(live_at__isnull=False).only(
        "province_code", "created_at", "live_at"
    ):
        assert app.live_at is not None
        seconds = (app.live_at - app.created_at).total_seconds()
        durations.setdefault(app.province_code, []).append(seconds)
    result = []
    for province in sorted({p for p, _k in counts}):
        coverage = ProvinceCoverage(province, names.get(province, province))
        for kind, label in AgencyKind.choices:
            live, total = counts.get((province, str(kind)), [0, 0])
            if kind == AgencyKind.COMMUNE:
                total = max(total, len(communes_of(province)))
            if total:
                coverage.kinds.append(KindCoverage(kind, str(label), live, total))
        if province in durations:
            coverage.median_to_live = timedelta(seconds=statistics.median(durations[province]))
        result.append(coverage)
    return result


# -- Go-live checklist -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    ok: bool
    detail: str = ""


def agency_golive_checklist(*, agency: Agency) -> list[ChecklistItem]:
    """What an agency still needs before it is really ready to serve citizens."""
    from allauth.mfa.models import Authenticator

    from billing.models import Subscription
    from portal.models import Branding
    from procedures.models import AgencyProcedure
    from tenants.context import agency_context

    memberships = Membership.objects.filter(agency=agency, is_active=True)
    admin_users = [m.user_id for m in memberships if Role.ADMIN in m.roles]
    staff = [m for m in memberships if set(m.roles) - {Role.ADMIN}]
    admin_mfa = Authenticator.objects.filter(
        user_id__in=admin_users, type=Authenticator.Type.TOTP
    ).exists()
    subscribed = Subscription.objects.filter(agency=agency, ends_on__isnull=True).exists()
    branding = published = False
    published_count = 0
    if agency.status in (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED):
        with agency_context(agency):
            branding = Branding.objects.filter(pk=1).exists()
            published_count = AgencyProcedure.objects.filter(
                published_version__isnull=False
            ).count()
            published = published_count > 0
    return [
        ChecklistItem("branding", str(_("Branding set")), branding),
        ChecklistItem("admin", str(_("At least one administrator")), bool(admin_users)),
        ChecklistItem("admin_mfa", str(_("An administrator uses two-factor sign-in")), admin_mfa),
        ChecklistItem(
            "staff", str(_("Staff invited")), bool(staff), detail=str(len(staff)) if staff else ""
        ),
        ChecklistItem(
            "procedures",
            str(_("At least one procedure published")),
            published,
            detail=str(published_count),
        ),
        ChecklistItem("billing", str(_("Billing subscription")), subscribed),
    ]


@dataclass(frozen=True)
class HealthItem:
    key: str
    label: str
    ok: bool
    detail: str = ""


def agency_health(*, agency: Agency, now: dt.datetime | None = None) -> list[HealthItem]:
    """Is the agency served as it should be? Its schema (there, and migrated as far as the
    code), its hostname, messages to applicants, the national portal sync, its payer, and when
    it last received a dossier. A handful of indexed queries."""
    from billing.models import AccountStatus, BillingAccount
    from dossiers.models import Dossier
    from nationalsync.models import OutboxStatus, PortalOutbox
    from notifications.models import Notification, NotificationStatus
    from tenants import schemas
    from tenants.context import agency_context
    from tenants.models import Domain, SchemaState

    now = now or timezone.now()
    items: list[HealthItem] = []
    servable = agency.status in (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED)
    state = SchemaState.objects.filter(schema_name=agency.schema_name).first()
    present = servable and state is not None and schemas.schema_exists(agency.schema_name)
    current = present and state is not None and state.fingerprint == _code_fingerprint()
    items.append(
        HealthItem(
            "schema",
            str(_("Database schema up to date")),
            bool(current),
            detail=agency.schema_name
            if current
            else str(_("missing") if not present else _("migrations pending")),
        )
    )
    hosts = list(Domain.objects.filter(tenant=agency).values_list("domain", flat=True))
    items.append(
        HealthItem("hostname", str(_("Hostname")), bool(hosts), detail=", ".join(hosts) or "—")
    )
    if present:
        with agency_context(agency):
            failed = Notification.objects.filter(status=NotificationStatus.FAILED).count()
            stuck = Notification.objects.filter(
                status=NotificationStatus.QUEUED, created_at__lt=now - dt.timedelta(minutes=15)
            ).count()
            last = Dossier.objects.order_by("-received_at").values_list("received_at", flat=True)
            last_received = last.first()
        items.append(
            HealthItem(
                "messages",
                str(_("Messages to applicants")),
                not failed and not stuck,
                detail=str(
                    _("%(failed)d failed, %(stuck)d waiting for over 15 minutes")
                    % {"failed": failed, "stuck": stuck}
                ),
            )
        )
        items.append(
            HealthItem(
                "activity",
                str(_("Last dossier received")),
                True,
                detail=formats.date_format(timezone.localtime(last_received), "d/m/Y H:i")
                if last_received
                else str(_("none yet")),
            )
        )
    sync = PortalOutbox.objects.filter(agency_id=agency.pk)
    failed_sync = sync.filter(status=OutboxStatus.FAILED).count()
    pending_sync = sync.filter(status=OutboxStatus.PENDING).count()
    items.append(
        HealthItem(
            "nationalsync",
            str(_("National portal sync")),
            not failed_sync,
            detail=str(
                _("%(pending)d waiting, %(failed)d failed")
                % {"pending": pending_sync, "failed": failed_sync}
            ),
        )
    )
    payer = BillingAccount.objects.filter(
        subscriptions__agency_id=agency.pk, subscriptions__ends_on__isnull=True
    ).first()
    items.append(
        HealthItem(
            "payer",
            str(_("Payer in good standing")),
            payer is not None and payer.status == AccountStatus.GOOD,
            detail=f"{payer.name}: {payer.get_status_display()}" if payer else str(_("no payer")),
        )
    )
    return items


@functools.cache
def _code_fingerprint() -> str:
    from tenants.schemas import migration_fingerprint

    return migration_fingerprint()
