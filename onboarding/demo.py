"""The demo province: a few departments and communes of Hải Phòng, each at its own hostname."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from billing.accounts import billing_account_create, subscription_start
from billing.models import BillingAccount
from billing.pricing import month_start, plans_ensure_defaults
from catalog.data import SAMPLE_CATALOG
from catalog.models import CatalogProcedure
from catalog.services import catalog_import
from onboarding.units import (
    commune_slug,
    communes_of,
    department_slug,
    sample_departments,
)
from procedures.models import AgencyProcedure
from procedures.services import procedures_adopt_for_kind
from tenants import services as tenant_services
from tenants.context import agency_context
from tenants.models import Agency, AgencyKind, AgencyStatus

DEMO_PROVINCE = "31"  # Thành phố Hải Phòng
DEMO_DEPARTMENTS = ("so-tu-phap", "so-y-te", "trung-tam-phuc-vu-hanh-chinh-cong")
DEMO_COMMUNES = 3

KIND_BY_SLUG = {
    "trung-tam-phuc-vu-hanh-chinh-cong": AgencyKind.SERVICE_CENTRE,
    "van-phong-ubnd": AgencyKind.OTHER,
}


def demo_province_seed(
    *,
    province_code: str = DEMO_PROVINCE,
    communes: int = DEMO_COMMUNES,
    report: Callable[[str], None] = lambda _msg: None,
) -> list[Agency]:
    """Create and provision the demo agencies; re-running skips what exists, finishes the rest."""
    wanted: list[dict[str, str]] = []
    for spec in sample_departments():
        if spec.slug in DEMO_DEPARTMENTS:
            wanted.append(
                {
                    "slug": department_slug(spec, province_code),
                    "name": spec.name,
                    "kind": KIND_BY_SLUG.get(spec.slug, AgencyKind.DEPARTMENT),
                    "admin_unit_code": province_code,
                }
            )
    for commune in communes_of(province_code)[:communes]:
        wanted.append(
            {
                "slug": commune_slug(commune),
                "name": commune.name,
                "kind": AgencyKind.COMMUNE,
                "admin_unit_code": commune.code,
            }
        )
    if not CatalogProcedure.objects.exists():
        report_import = catalog_import(raw=SAMPLE_CATALOG.read_bytes())
        report(f"imported the sample national catalog ({len(report_import.created)} procedures)")
    agencies = []
    for fields in wanted:
        agency = Agency.objects.filter(slug=fields["slug"]).first()
        if agency is None:
            agency = tenant_services.agency_create(
                slug=fields["slug"],
                name=fields["name"],
                kind=fields["kind"],
                admin_unit_code=fields["admin_unit_code"],
                province_code=province_code,
            )
        if agency.status == AgencyStatus.PROVISIONING:
            result = tenant_services.agency_provision(agency=agency)
            agency = result.agency
            report(f"provisioned {agency.slug} ({result.created_via}, {result.seconds:.2f}s)")
        with agency_context(agency):
            if not AgencyProcedure.objects.exists():
                adopted = procedures_adopt_for_kind(agency=agency, publish=True)
                report(f"  {agency.slug}: published {len(adopted)} procedures")
        agencies.append(agency)
    _demo_billing(agencies, report)
    return agencies


DEMO_PAYER = {
    "name": "Ủy ban nhân dân thành phố Hải Phòng",
    "tax_code": "0200000000",
    "address": "18 Hoàng Diệu, Hồng Bàng, Hải Phòng",
    "email": "ketoan.ubnd@example.vn",
}


def _demo_billing(agencies: list[Agency], report: Callable[[str], None]) -> None:
    """One payer (the city's people's committee) renting the service for every demo agency."""
    if plans_ensure_defaults():
        report("created the default plans")
    payer = BillingAccount.objects.filter(tax_code=DEMO_PAYER["tax_code"]).first()
    if payer is None:
        payer = billing_account_create(**DEMO_PAYER)
    start = month_start(timezone.localdate())
    for agency in agencies:
        subscription_start(agency=agency, billing_account=payer, starts_on=start)
