"""Bulk onboarding of a province: every commune from ``vietnam-provinces`` plus a department list.

Two phases. First, in one transaction, the department file is checked row by row and an
application is submitted and approved for every unit that has none yet: a single bad row or
refused unit changes nothing. Then each application's pipeline runs (in this process, or on the
worker for the console action). Re-running skips live applications, resumes partial ones and
retries failed ones.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import BillingAccount
from core import inputs
from onboarding import services
from onboarding.models import OPEN_STATES, Application, ApplicationState, ProvinceRun
from tenants.models import Agency, AgencyKind
from tenants.units import DepartmentSpec, communes_of, department_slug, provinces
from tenants.validators import SLUG_RE

S = ApplicationState

# Entries of the departments file that are not a "Sở" (department) proper.
KIND_BY_SLUG = {
    "trung-tam-phuc-vu-hanh-chinh-cong": AgencyKind.SERVICE_CENTRE,
    "van-phong-ubnd": AgencyKind.OTHER,
    "thanh-tra-tinh": AgencyKind.OTHER,
}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True)
class DepartmentRow:
    slug: str
    name: str
    name_en: str = ""
    kind: str = AgencyKind.DEPARTMENT
    admin_email: str = ""


def departments_parse(raw: bytes | str) -> list[DepartmentRow]:
    """Read a departments file (format of departments.sample.json); every bad row is reported."""
    try:
        # Text in NFC, NUL characters refused: the one rule for all input (core.inputs).
        data = inputs.loads(raw, where="")
    except inputs.NulCharacter as exc:
        raise ValidationError(exc.message()) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(
            _("The department list is not valid JSON: %(error)s") % {"error": exc}
        ) from exc
    rows = data.get("departments") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ValidationError(_("The department list needs a “departments” array."))
    errors: list[str] = []
    parsed: list[DepartmentRow] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            errors.append(_("Row %(n)d: not an object.") % {"n": number})
            continue
        slug = str(row.get("slug") or "").strip()
        name = str(row.get("name") or "").strip()
        email = str(row.get("admin_email") or "").strip().lower()
        kind = str(row.get("kind") or KIND_BY_SLUG.get(slug, AgencyKind.DEPARTMENT))
        row_errors = []
        if not slug or not SLUG_RE.match(slug):
            row_errors.append(_("the slug “%(slug)s” is missing or invalid") % {"slug": slug})
        elif slug in seen:
            row_errors.append(_("the slug “%(slug)s” appears twice") % {"slug": slug})
        if not name:
            row_errors.append(_("the name is missing"))
        if kind not in AgencyKind.values or kind == AgencyKind.COMMUNE:
            row_errors.append(_("the kind “%(kind)s” is not a provincial agency") % {"kind": kind})
        if email and not EMAIL_RE.match(email):
            row_errors.append(_("the e-mail “%(email)s” is invalid") % {"email": email})
        seen.add(slug)
        if row_errors:
            errors.append(
                _("Row %(n)d: %(errors)s.") % {"n": number, "errors": "; ".join(row_errors)}
            )
            continue
        parsed.append(DepartmentRow(slug, name, str(row.get("name_en") or ""), kind, email))
    if errors:
        raise ValidationError(errors)
    return parsed


def default_admin_email(slug: str) -> str:
    """Placeholder administrator address when the province gave none (the provider edits it)."""
    return f"quantri.{slug}@{settings.PLATFORM_BASE_DOMAIN}"


@dataclass
class BulkReport:
    province_code: str
    created: int = 0
    skipped: int = 0
    live: list[int] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    per_agency: list[float] = field(default_factory=list)

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.per_agency) if self.per_agency else 0.0


def _check_province(province_code: str) -> str:
    code = province_code.strip()
    code = f"{int(code):02d}" if code.isdigit() else code
    if code not in provinces():
        raise ValidationError(
            _("“%(code)s” is not an official province code.") % {"code": province_code}
        )
    return code


def province_applications_prepare(
    *,
    province_code: str,
    departments: list[DepartmentRow],
    billing_account: BillingAccount | None = None,
    actor_email: str = "",
    communes: int | None = None,
    province_run_id: int | None = None,
) -> tuple[list[Application], int, int]:
    """Submit and approve one application per unit without one; all or nothing.

    Returns (applications to run, created, skipped). Units whose agency exists without an
    application (e.g. the demo seed) are skipped.
    """
    code = _check_province(province_code)
    units: list[tuple[str, str, str, DepartmentSpec | None, str]] = []
    for row in departments:
        units.append(
            (
                row.kind,
                code,
                row.name,
                DepartmentSpec(row.slug, row.name, row.name_en),
                row.admin_email,
            )
        )
    for commune in communes_of(code)[:communes]:
        units.append((AgencyKind.COMMUNE, commune.code, commune.name, None, ""))
    created = skipped = 0
    errors: list[str] = []
    applications: list[Application] = []
    with transaction.atomic():
        for kind, unit_code, name, spec, email in units:
            if spec is not None:
                slug = department_slug(spec, code)
            else:
                slug = services.unit_resolve(kind=kind, admin_unit_code=unit_code).slug
            existing = Application.objects.filter(slug=slug, state__in=OPEN_STATES).first()
            if existing is None and Agency.objects.filter(slug=slug).exists():
                skipped += 1
                continue
            if existing is None:
                try:
                    existing = services.application_submit(
                        kind=kind,
                        admin_unit_code=unit_code,
                        name=name,
                        contact_name=_("Provincial onboarding"),
                        contact_phone="-",
                        admin_email=email or default_admin_email(slug),
                        actor_email=actor_email,
                        province_run_id=province_run_id,
                    )
                except ValidationError as exc:
                    errors.append(f"{name}: {'; '.join(exc.messages)}")
                    continue
                # The department file's slug wins over one derived from the name.
                if existing.slug != slug:
                    Application.objects.filter(pk=existing.pk).update(slug=slug)
                    existing.slug = slug
                created += 1
            if existing.state == S.SUBMITTED:
                existing = services.application_approve(
                    application=existing,
                    billing_account=billing_account,
                    actor_email=actor_email,
                    start=False,
                )
            if existing.state == S.LIVE:
                skipped += 1
                continue
            if existing.state in (S.APPROVED, S.FAILED, S.PROVISIONING, S.CONFIGURING):
                applications.append(existing)
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise ValidationError(errors)
    return applications, created, skipped


def province_onboard(
    *,
    province_code: str,
    departments: list[DepartmentRow],
    billing_account: BillingAccount | None = None,
    actor_email: str = "",
    communes: int | None = None,
    progress: Callable[[int, int, Application], None] | None = None,
    province_run_id: int | None = None,
) -> BulkReport:
    """Onboard a whole province in this process; see the module docstring."""
    started = time.perf_counter()
    applications, created, skipped = province_applications_prepare(
        province_code=province_code,
        departments=departments,
        billing_account=billing_account,
        actor_email=actor_email,
        communes=communes,
        province_run_id=province_run_id,
    )
    report = BulkReport(_check_province(province_code), created=created, skipped=skipped)
    for index, application in enumerate(applications, start=1):
        one = time.perf_counter()
        application = services.application_pipeline_run(
            application=application, actor_email=actor_email
        )
        report.per_agency.append(time.perf_counter() - one)
        if application.state == S.LIVE:
            report.live.append(application.pk)
        else:
            report.failed[application.slug] = application.error
        if progress:
            progress(index, len(applications), application)
    report.seconds = time.perf_counter() - started
    return report


# -- Console action: the same, on the worker, with progress in a ProvinceRun ---------------


def province_run_create(
    *,
    province_code: str,
    departments: list[DepartmentRow],
    billing_account: BillingAccount | None = None,
    actor_email: str = "",
    send: bool = True,
) -> ProvinceRun:
    code = _check_province(province_code)
    with transaction.atomic():
        run = ProvinceRun.objects.create(
            province_code=code,
            departments=[row.__dict__ for row in departments],
            billing_account=billing_account,
            actor_email=actor_email,
        )
        if send:
            from onboarding.tasks import province_run_execute

            transaction.on_commit(lambda: province_run_execute.delay(run.pk))
    return run


def province_run_execute(*, run_id: int) -> ProvinceRun:
    run = ProvinceRun.objects.get(pk=run_id)
    ProvinceRun.objects.filter(pk=run.pk).update(status="running")

    failures = 0

    def progress(index: int, total: int, application: Application) -> None:
        nonlocal failures
        failures += application.state == S.FAILED
        ProvinceRun.objects.filter(pk=run.pk).update(total=total, done=index, failed=failures)

    try:
        departments = [DepartmentRow(**row) for row in run.departments]
        report = province_onboard(
            province_code=run.province_code,
            departments=departments,
            billing_account=run.billing_account,
            actor_email=run.actor_email,
            progress=progress,
            province_run_id=run.pk,
        )
    except ValidationError as exc:
        ProvinceRun.objects.filter(pk=run.pk).update(
            status="failed", error="\n".join(exc.messages), finished_at=timezone.now()
        )
    else:
        ProvinceRun.objects.filter(pk=run.pk).update(
            status="finished",
            failed=len(report.failed),
            total=len(report.live) + len(report.failed),
            done=len(report.live) + len(report.failed),
            error="\n".join(f"{k}: {v}" for k, v in report.failed.items()),
            finished_at=timezone.now(),
        )
    run.refresh_from_db()
    return run
