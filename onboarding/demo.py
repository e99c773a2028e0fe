"""The demo province: a few departments and communes of Hải Phòng, each at its own hostname,
and its people: one demo account per role, the staff with an authenticator already set up.

Local installations only (``dev.py up``): the accounts share one published password.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from allauth.mfa.utils import decrypt
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import membership_grant
from billing.accounts import billing_account_create, subscription_start
from billing.invoicing import previous_period
from billing.models import BillingAccount
from billing.pricing import plans_ensure_defaults
from catalog.data import SAMPLE_CATALOG
from catalog.models import CatalogProcedure
from catalog.services import catalog_import
from dossiers.models import FeeChannel
from lifecycle.fees import fee_settings, fee_settings_update
from procedures.models import AgencyProcedure
from procedures.services import procedures_adopt_for_kind
from tenants import services as tenant_services
from tenants.context import agency_context
from tenants.models import Agency, AgencyKind, AgencyStatus
from tenants.units import (
    commune_slug,
    communes_of,
    department_slug,
    sample_departments,
)

DEMO_PROVINCE = "31"  # Thành phố Hải Phòng
DEMO_DEPARTMENTS = (
    "so-tu-phap",
    "so-y-te",
    "so-nong-nghiep-moi-truong",  # receives the communes' land registrations (liên thông)
    "trung-tam-phuc-vu-hanh-chinh-cong",
)
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
            if not fee_settings().has_bank_account:
                _demo_fee_settings(agency)
        agencies.append(agency)
    _demo_billing(agencies, report)
    return agencies


def _demo_fee_settings(agency: Agency) -> None:
    """Citizens of the demo can pay fees with no outside service: a VietQR transfer into a
    made-up Agribank account of the agency (and by card, once Stripe keys are set)."""
    fee_settings_update(
        channels=[FeeChannel.VIETQR, FeeChannel.STRIPE],
        bank_bin="970405",
        bank_account=f"1900{agency.pk:09d}",
        bank_account_name=agency.name[:50],
    )


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
    # From the start of last month: the demo has a closed month to invoice.
    start = previous_period(timezone.localdate())
    for agency in agencies:
        subscription_start(agency=agency, billing_account=payer, starts_on=start)


# -- The demo's people ------------------------------------------------------------------------

DEMO_PASSWORD = "motcua-demo"  # noqa: S105 - local demo only, printed by `dev.py up`


@dataclass(frozen=True)
class DemoPerson:
    """One demo account: what it stands for, and its roles in the demo's home agency."""

    key: str
    email: str
    full_name: str
    roles: tuple[str, ...] = ()
    provider_staff: bool = False
    phone: str = ""
    personal_id_number: str = ""
    address: str = ""

    @property
    def uses_second_factor(self) -> bool:
        return self.provider_staff or bool(self.roles)


DEMO_PEOPLE = (
    DemoPerson("provider", "admin@motcua.localhost", "Đỗ Minh Quân", provider_staff=True),
    DemoPerson("agency_admin", "quantri@motcua.localhost", "Nguyễn Thị Hồng", (Role.ADMIN,)),
    # One person at the desk and on the appraisal: the demo's officer can take every step
    # that is not a leader's.
    DemoPerson(
        "officer", "canbo@motcua.localhost", "Trần Văn Bình", (Role.RECEPTIONIST, Role.OFFICER)
    ),
    DemoPerson("leader", "lanhdao@motcua.localhost", "Phạm Quốc Cường", (Role.LEADER,)),
    DemoPerson(
        "citizen",
        "congdan@motcua.localhost",
        "Lê Thị Mai",
        phone="0912345678",
        personal_id_number="031190012345",
        address="Số 12 phố Thanh Niên, phường Thành Đông, Hải Phòng",
    ),
)


def demo_person(key: str) -> DemoPerson:
    return next(p for p in DEMO_PEOPLE if p.key == key)


def demo_home_agency(*, province_code: str = DEMO_PROVINCE) -> Agency | None:
    """The agency the demo's staff work for and its citizen uses: the first commune."""
    communes = communes_of(province_code)
    if not communes:
        return None
    return Agency.objects.filter(slug=commune_slug(communes[0])).first()


def demo_people_seed(*, agency: Agency) -> list[User]:
    """Create (once) every demo account, verified, with its roles in ``agency``; staff get a
    TOTP authenticator, whose current code ``demo_totp_code`` tells. Idempotent."""
    users = []
    for person in DEMO_PEOPLE:
        user = User.objects.filter(email=person.email).first()
        if user is None:
            user = User.objects.create_user(
                person.email,
                DEMO_PASSWORD,
                full_name=person.full_name,
                phone=person.phone,
                personal_id_number=person.personal_id_number,
                address=person.address,
                is_staff=person.provider_staff,
                is_superuser=person.provider_staff,
            )
        EmailAddress.objects.get_or_create(
            user=user, email=person.email, defaults={"verified": True, "primary": True}
        )
        if person.roles:
            membership_grant(user=user, agency=agency, roles=person.roles)
        if person.uses_second_factor and not _totp_of(user):
            TOTP.activate(user, generate_totp_secret())
        users.append(user)
    return users


def _totp_of(user: User) -> Authenticator | None:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()


@dataclass(frozen=True)
class DemoCode:
    code: str
    seconds_left: int
    secret: str


def demo_totp_code(*, email: str) -> DemoCode | None:
    """The code the account's authenticator app would show now (None: no authenticator)."""
    user = User.objects.filter(email__iexact=email.strip()).first()
    authenticator = _totp_of(user) if user is not None else None
    if authenticator is None:
        return None
    secret = str(decrypt(authenticator.data["secret"]))
    now, period = int(time.time()), int(mfa_settings.TOTP_PERIOD)
    return DemoCode(
        code=format_hotp_value(hotp_value(secret, now // period)),
        seconds_left=period - now % period,
        secret=secret,
    )
