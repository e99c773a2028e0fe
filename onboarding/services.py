"""Every write to applications goes through these services: submission, the state machine and
the provisioning pipeline's steps.

The pipeline is a list of named steps (``STEPS``). Each step is idempotent: it checks what
already exists before writing, so a retry after a failure or a killed worker resumes where the
last attempt stopped and never duplicates an agency, schema, user, membership or subscription.
``onboarding.tasks`` chains the steps on Celery; the bulk command runs them in-process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import Membership, Role, User
from accounts.services import membership_grant
from billing.models import BillingAccount, Plan
from core.failpoints import failpoint
from onboarding import selectors
from onboarding.models import (
    OPEN_STATES,
    RUNNING_STATES,
    Application,
    ApplicationEvent,
    ApplicationState,
)
from tenants import services as tenant_services
from tenants.context import agency_context
from tenants.models import Agency, AgencyKind, Domain
from tenants.units import Commune, communes_of, province_codename, provinces
from tenants.validators import SLUG_MAX_LENGTH

logger = logging.getLogger(__name__)

S = ApplicationState

# Which state may follow which. Anything else is refused with a clear message.
TRANSITIONS: dict[str, set[str]] = {
    S.SUBMITTED: {S.APPROVED, S.REJECTED},
    S.APPROVED: {S.PROVISIONING},
    S.PROVISIONING: {S.CONFIGURING, S.FAILED},
    S.CONFIGURING: {S.LIVE, S.FAILED},
    S.FAILED: {S.PROVISIONING},
    S.LIVE: {S.SUSPENDED},
    S.SUSPENDED: {S.LIVE, S.OFFBOARDED},
    S.REJECTED: set(),
    S.OFFBOARDED: set(),
}

STEPS: tuple[str, ...] = (
    "agency",
    "schema",
    "domain",
    "branding",
    "procedures",
    "admin",
    "billing",
)
PROVISIONING_STEPS = ("agency", "schema", "domain")  # then the application is "configuring"


# -- Admin units -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _communes_by_code() -> dict[str, Commune]:
    return {c.code: c for code in provinces() for c in communes_of(code)}


def commune_lookup(code: str) -> Commune | None:
    code = code.strip()
    if not code.isdigit():
        return None
    return _communes_by_code().get(f"{int(code):05d}")


def _slug_text(text: str) -> str:
    return slugify(text.replace("đ", "d").replace("Đ", "D"))


def unit_slug(*, kind: str, name: str, province_code: str, commune: Commune | None) -> str:
    """A stable slug: communes by codename + official code, others by name + province."""
    if commune is not None:
        slug = f"{commune.codename.replace('_', '-')}-{commune.code}"
    else:
        slug = f"{_slug_text(name)}-{province_codename(province_code)}"
    if len(slug) > SLUG_MAX_LENGTH:
        slug = slug[:SLUG_MAX_LENGTH].rstrip("-")
    return slug


@dataclass(frozen=True)
class Unit:
    kind: str
    province_code: str
    admin_unit_code: str
    name: str
    slug: str


def unit_resolve(*, kind: str, admin_unit_code: str, name: str = "") -> Unit:
    """Check the official code against ``vietnam-provinces`` and derive province, name and slug.

    Communes give their commune code; departments and other provincial agencies their province
    code. Raises a ValidationError keyed by field.
    """
    code = (admin_unit_code or "").strip()
    name = (name or "").strip()
    if kind not in AgencyKind.values:
        raise ValidationError(
            {"kind": _("Unknown agency kind “%(kind)s”.") % {"kind": kind}}, code="invalid"
        )
    if kind == AgencyKind.COMMUNE:
        commune = commune_lookup(code)
        if commune is None:
            raise ValidationError(
                {
                    "admin_unit_code": _("“%(code)s” is not an official commune or ward code.")
                    % {"code": code}
                },
                code="unknown_unit",
            )
        name = name or commune.name
        province = commune.province_code
        return Unit(
            kind,
            province,
            commune.code,
            name,
            unit_slug(kind=kind, name=name, province_code=province, commune=commune),
        )
    province = f"{int(code):02d}" if code.isdigit() else code
    if province not in provinces():
        raise ValidationError(
            {"admin_unit_code": _("“%(code)s” is not an official province code.") % {"code": code}},
            code="unknown_unit",
        )
    if not name:
        raise ValidationError({"name": _("Enter the agency's official name.")}, code="required")
    slug = unit_slug(kind=kind, name=name, province_code=province, commune=None)
    return Unit(kind, province, province, name, slug)


# -- Submission and transitions -------------------------------------------------------------


def _record(
    application: Application,
    event: str,
    *,
    from_state: str = "",
    to_state: str = "",
    actor_email: str = "",
    **detail: Any,
) -> None:
    ApplicationEvent.objects.create(
        application=application,
        event=event,
        from_state=from_state,
        to_state=to_state,
        actor_email=actor_email,
        detail=detail,
    )


def admin_email_taken(email: str, *, exclude_application: int | None = None) -> bool:
    """True when the address already administers another agency or is asked for elsewhere."""
    if Membership.objects.filter(
        user__email__iexact=email, roles__contains=[Role.ADMIN], is_active=True
    ).exists():
        return True
    others = Application.objects.filter(admin_email__iexact=email, state__in=OPEN_STATES)
    if exclude_application is not None:
        others = others.exclude(pk=exclude_application)
    return others.exists()


def application_submit(
    *,
    kind: str,
    admin_unit_code: str,
    contact_name: str,
    contact_phone: str,
    admin_email: str,
    name: str = "",
    parent: Agency | None = None,
    requested_plan: Plan | None = None,
    actor_email: str = "",
    province_run_id: int | None = None,
) -> Application:
    """Record an application (submitted) after checking every field; refused → nothing saved."""
    errors: dict[str, list[str]] = {}
    unit: Unit | None = None
    try:
        unit = unit_resolve(kind=kind, admin_unit_code=admin_unit_code, name=name)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    email = (admin_email or "").strip().lower()
    if not email:
        errors.setdefault("admin_email", []).append(_("Enter the administrator's e-mail address."))
    elif admin_email_taken(email):
        errors.setdefault("admin_email", []).append(
            _("%(email)s is already the administrator of another agency.") % {"email": email}
        )
    if not contact_name.strip():
        errors.setdefault("contact_name", []).append(_("Enter the name of a contact person."))
    if not contact_phone.strip():
        errors.setdefault("contact_phone", []).append(_("Enter a contact phone number."))
    if unit is not None:
        taken = (
            Agency.objects.filter(slug=unit.slug).exists()
            or Application.objects.filter(slug=unit.slug, state__in=OPEN_STATES).exists()
            or (
                unit.kind == AgencyKind.COMMUNE
                and Agency.objects.filter(
                    kind=AgencyKind.COMMUNE, admin_unit_code=unit.admin_unit_code
                ).exists()
            )
        )
        if taken:
            errors.setdefault("admin_unit_code", []).append(
                _("%(name)s (%(code)s) already has an agency or an open application.")
                % {"name": unit.name, "code": unit.admin_unit_code}
            )
        if requested_plan is not None and requested_plan.agency_kind != unit.kind:
            errors.setdefault("requested_plan", []).append(
                _("The plan “%(plan)s” is not for this kind of agency.") % {"plan": requested_plan}
            )
    if errors or unit is None:
        raise ValidationError(errors)
    with transaction.atomic():
        application = Application.objects.create(
            kind=unit.kind,
            province_code=unit.province_code,
            admin_unit_code=unit.admin_unit_code,
            name=unit.name,
            slug=unit.slug,
            parent=parent,
            contact_name=contact_name.strip(),
            contact_phone=contact_phone.strip(),
            admin_email=email,
            requested_plan=requested_plan,
            created_by_email=actor_email,
            province_run_id=province_run_id,
        )
        _record(application, "submitted", to_state=S.SUBMITTED, actor_email=actor_email)
    return application


def _transition(
    application: Application, to: str, *, actor_email: str = "", event: str = "", **detail: Any
) -> Application:
    """Move to ``to`` if the state machine allows it; writes the audit row. Locks the row."""
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if to not in TRANSITIONS[locked.state]:
            raise ValidationError(
                _("An application cannot go from “%(old)s” to “%(new)s”.")
                % {"old": locked.get_state_display(), "new": S(to).label},
                code="transition",
            )
        old = locked.state
        locked.state = to
        fields = ["state", "updated_at"]
        now = timezone.now()
        if to == S.APPROVED:
            locked.approved_at = now
            fields.append("approved_at")
        if to == S.LIVE and locked.live_at is None:
            locked.live_at = now
            fields.append("live_at")
        for key in ("billing_account", "reject_reason", "error", "percent", "step"):
            if key in detail:
                setattr(locked, key, detail[key])
                fields.append(key)
        locked.save(update_fields=fields)
        logged = {
            k: (v.pk if isinstance(v, BillingAccount) else v)
            for k, v in detail.items()
            if v not in (None, "")
        }
        _record(
            locked,
            event or to,
            from_state=old,
            to_state=to,
            actor_email=actor_email,
            **logged,
        )
    return locked


def application_approve(
    *,
    application: Application,
    billing_account: BillingAccount | None = None,
    actor_email: str = "",
    start: bool = True,
) -> Application:
    """Approve; the pipeline starts on Celery after commit unless ``start`` is False."""
    with transaction.atomic():
        application = _transition(
            application, S.APPROVED, actor_email=actor_email, billing_account=billing_account
        )
        if start:
            application = application_pipeline_start(
                application=application, actor_email=actor_email
            )
    return application


def application_reject(
    *, application: Application, reason: str, actor_email: str = ""
) -> Application:
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for the rejection.")}, code="required")
    return _transition(
        application, S.REJECTED, actor_email=actor_email, reject_reason=reason.strip()
    )


def application_suspend(
    *, application: Application, actor_email: str = "", reason: str = ""
) -> Application:
    from tenants.models import AgencyStatus

    with transaction.atomic():
        application = _transition(application, S.SUSPENDED, actor_email=actor_email, reason=reason)
        if application.agency is not None:
            tenant_services.agency_set_status(
                agency=application.agency,
                status=AgencyStatus.SUSPENDED,
                actor_email=actor_email,
                reason=reason,
            )
    return application


def application_reactivate(*, application: Application, actor_email: str = "") -> Application:
    from tenants.models import AgencyStatus

    with transaction.atomic():
        application = _transition(application, S.LIVE, actor_email=actor_email, event="reactivated")
        if application.agency is not None:
            tenant_services.agency_set_status(
                agency=application.agency, status=AgencyStatus.ACTIVE, actor_email=actor_email
            )
    return application


def application_pipeline_start(
    *, application: Application, actor_email: str = "", send: bool = True
) -> Application:
    """Approved or failed → provisioning; the step chain is queued after commit (retry resumes)."""
    with transaction.atomic():
        event = "retry" if application.state == S.FAILED else "provisioning"
        application = _transition(
            application, S.PROVISIONING, actor_email=actor_email, event=event, error=""
        )
        if send:
            pk = application.pk
            transaction.on_commit(lambda: _pipeline_queue(pk))
    return application


def _pipeline_queue(application_id: int) -> None:
    """Queue the step chain (after commit). A broker that cannot be reached fails the
    application with the reason, so the console shows it with a retry button at once."""
    from onboarding.tasks import pipeline_send

    try:
        pipeline_send(application_id)
    except Exception as exc:  # kombu raises several kinds for an unreachable broker
        logger.warning("could not queue the pipeline of application %s: %r", application_id, exc)
        application = Application.objects.get(pk=application_id)
        if application.state in RUNNING_STATES:
            _transition(
                application,
                S.FAILED,
                event="queue_failed",
                error=_("The work queue could not be reached: %(error)s") % {"error": exc},
            )


def application_retry(*, application: Application, actor_email: str = "") -> Application:
    """Start a failed application again, or queue the remaining steps of a stuck one.

    Both resume where the last attempt stopped: done steps are skipped and every step
    checks what already exists, so nothing is created twice.
    """
    if application.state == S.FAILED:
        return application_pipeline_start(application=application, actor_email=actor_email)
    if not selectors.application_stuck(application):
        raise ValidationError(
            _("Only a failed or stuck application can be retried."), code="transition"
        )
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if not selectors.application_stuck(locked):  # another retry just queued it
            return locked
        locked.error = ""
        locked.save(update_fields=["error", "updated_at"])  # no longer stuck: work is queued
        _record(locked, "resumed", from_state=locked.state, to_state=locked.state,
                actor_email=actor_email, step=locked.step)  # fmt: skip
        pk = locked.pk
        transaction.on_commit(lambda: _pipeline_queue(pk))
    return locked


# -- The pipeline's steps -------------------------------------------------------------------


def _step_agency(app: Application) -> None:
    agency = app.agency or Agency.objects.filter(slug=app.slug).first()
    if agency is None:
        agency = tenant_services.agency_create(
            slug=app.slug,
            name=app.name,
            kind=app.kind,
            province_code=app.province_code,
            admin_unit_code=app.admin_unit_code,
            parent=app.parent,
            actor_email=app.created_by_email,
        )
    if app.agency_id != agency.pk:
        Application.objects.filter(pk=app.pk).update(agency=agency)
        app.agency = agency


def _agency(app: Application) -> Agency:
    if app.agency is None:
        raise ValidationError(_("The agency has not been created yet."), code="order")
    return app.agency


def _step_schema(app: Application) -> None:
    tenant_services.agency_provision(agency=_agency(app))


def _step_domain(app: Application) -> None:
    agency = _agency(app)
    if not Domain.objects.filter(tenant=agency, is_primary=True).exists():
        raise ValidationError(_("The agency has no primary hostname."), code="no_domain")


def _step_branding(app: Application) -> None:
    from portal.branding import branding_update
    from portal.models import Branding

    agency = _agency(app)
    with agency_context(agency):
        if not Branding.objects.filter(pk=1).exists():
            branding_update(display_name=app.name, phone=app.contact_phone)


def _step_procedures(app: Application) -> list[str]:
    from procedures.services import procedures_adopt_for_kind

    agency = _agency(app)
    with agency_context(agency):
        adopted = procedures_adopt_for_kind(agency=agency, publish=True)
    if not adopted:
        return [_("The national catalog has no procedure for this kind of agency yet.")]
    return []


def _invitation_link(agency: Agency, user: User) -> str:
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    key = default_token_generator.make_token(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
        urlconf="config.urls_public",
    )
    return f"https://{settings.PLATFORM_PUBLIC_HOSTS[0]}{path}"


def _step_admin(app: Application) -> None:
    agency = _agency(app)
    user = User.objects.filter(email__iexact=app.admin_email).first()
    if user is None:
        user = User.objects.create_user(app.admin_email, None)  # no usable password yet
    membership = Membership.objects.filter(user=user, agency=agency).first()
    roles = set(membership.roles if membership else []) | {Role.ADMIN}
    membership_grant(user=user, agency=agency, roles=roles)
    if app.invited_at is not None:
        return
    domain = Domain.objects.filter(tenant=agency, is_primary=True).first()
    context = {
        "agency": agency,
        "application": app,
        "portal_url": f"https://{domain.domain}/" if domain else "",
        "set_password_url": "" if user.has_usable_password() else _invitation_link(agency, user),
        "platform_name": settings.PLATFORM_NAME,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("You are the administrator of %(agency)s on %(platform)s") % {
            "agency": agency.name,
            "platform": settings.PLATFORM_NAME,
        }
        body = render_to_string("onboarding/email/invitation.txt", context)
    send_mail(subject, body, None, [app.admin_email])
    # Sent before this commit: a crash in between sends the invitation twice, never zero times.
    Application.objects.filter(pk=app.pk).update(invited_at=timezone.now())
    app.invited_at = timezone.now()


def _step_billing(app: Application) -> list[str]:
    from billing.accounts import subscription_start

    agency = _agency(app)
    if app.billing_account is None:
        return [_("No billing account was chosen on approval: no subscription was created.")]
    subscription_start(
        agency=agency,
        billing_account=app.billing_account,
        starts_on=timezone.localdate(),
        plan=app.requested_plan,
        actor_email=app.created_by_email,
    )
    return []


STEP_FUNCTIONS: dict[str, Callable[[Application], Any]] = {
    "agency": _step_agency,
    "schema": _step_schema,
    "domain": _step_domain,
    "branding": _step_branding,
    "procedures": _step_procedures,
    "admin": _step_admin,
    "billing": _step_billing,
}


def _advance(application: Application) -> Application:
    done = set(application.steps_done)
    if application.state == S.PROVISIONING and done.issuperset(PROVISIONING_STEPS):
        application = _transition(application, S.CONFIGURING)
    if application.state == S.CONFIGURING and done.issuperset(STEPS):
        application = _transition(application, S.LIVE, percent=100, step="")
    return application


def application_step_run(*, application_id: int, step: str) -> Application:
    """Run one pipeline step if it is not done yet; a failure marks the application failed.

    Never raises for a failing step (the error is on the application and the next steps see
    the failed state and do nothing); the caller learns the outcome from the returned state.
    """
    application = Application.objects.select_related("agency", "billing_account").get(
        pk=application_id
    )
    if application.state not in (S.PROVISIONING, S.CONFIGURING):
        return application
    if step in application.steps_done:
        return _advance(application)
    Application.objects.filter(pk=application.pk).update(step=step, updated_at=timezone.now())
    try:
        with transaction.atomic():
            notes = STEP_FUNCTIONS[step](application) or []
            failpoint(f"onboarding.step.{step}")  # after the work, before it is marked done
            locked = Application.objects.select_for_update().get(pk=application.pk)
            locked.steps_done = [s for s in STEPS if s in {*locked.steps_done, step}]
            locked.percent = int(100 * len(locked.steps_done) / len(STEPS))
            locked.notes = [*locked.notes, *[str(n) for n in notes if str(n) not in locked.notes]]
            locked.agency = application.agency
            locked.save(update_fields=["steps_done", "percent", "notes", "agency", "updated_at"])
            _record(locked, "step_done", step=step, notes=[str(n) for n in notes])
    except Exception as exc:
        logger.exception("onboarding step %s of application %s failed", step, application_id)
        from tenants.db import connection

        connection.set_schema_to_public()
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else repr(exc)
        message = f"{step}: {message}"[:2000]
        return _transition(application, S.FAILED, step=step, error=message, event="step_failed")
    return _advance(locked)


def application_pipeline_run(*, application: Application, actor_email: str = "") -> Application:
    """Run the whole pipeline in this process (bulk command, bench): start or resume, then steps."""
    application.refresh_from_db()
    if application.state in (S.APPROVED, S.FAILED):
        application = application_pipeline_start(
            application=application, actor_email=actor_email, send=False
        )
    for step in STEPS:
        application = application_step_run(application_id=application.pk, step=step)
        if application.state == S.FAILED:
            break
    return application
