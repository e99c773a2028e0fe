"""The provisioning pipeline in this process: complete, idempotent, resumable after a failure."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from accounts.models import Membership, User
from billing.models import Subscription
from onboarding import selectors, services
from onboarding.models import ApplicationState
from onboarding.tests.conftest import apply_commune
from portal.models import Branding
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tenants.models import Agency, AgencyStatus, Domain

S = ApplicationState


def run_pipeline(application: Any) -> Any:
    return services.application_pipeline_run(application=application)


def retry(application: Any) -> Any:
    return services.application_retry(application=application)


def approved(commune: Any, payer: Any = None, **kw: Any) -> Any:
    application = apply_commune(commune, **kw)
    return services.application_approve(application=application, billing_account=payer, start=False)


@pytest.mark.django_db
def test_the_pipeline_brings_an_application_live(
    hp_communes: list[Any], payer: Any, national_catalog: None
) -> None:
    application = run_pipeline(approved(hp_communes[0], payer))
    assert application.state == S.LIVE, application.error
    assert application.percent == 100 and application.live_at is not None
    agency = application.agency
    assert agency.status == AgencyStatus.ACTIVE
    assert Domain.objects.filter(tenant=agency, is_primary=True).count() == 1
    with agency_context(agency):
        assert Branding.objects.get(pk=1).display_name == application.name
        assert AgencyProcedure.objects.filter(published_version__isnull=False).exists()
    user = User.objects.get(email=application.admin_email)
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user, agency=agency).roles == ["admin"]
    assert len(mail.outbox) == 1 and "/accounts/password/reset/key/" in mail.outbox[0].body
    assert Subscription.objects.filter(agency=agency, ends_on__isnull=True).count() == 1
    steps = list(
        application.events.filter(event="step_done").order_by("id").values_list("detail", flat=True)
    )
    assert [s["step"] for s in steps] == list(services.STEPS)

    checklist = {i.key: i.ok for i in selectors.agency_golive_checklist(agency=agency)}
    assert checklist == {
        "branding": True,
        "admin": True,
        "admin_mfa": False,
        "staff": False,
        "procedures": True,
        "billing": True,
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_without_a_billing_account_the_subscription_is_skipped_with_a_note(
    hp_communes: list[Any], plans: None
) -> None:
    application = run_pipeline(approved(hp_communes[0]))
    assert application.state == S.LIVE
    assert any("No billing account" in n for n in application.notes)
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_a_failed_step_marks_the_application_failed_and_a_retry_completes_without_duplicates(
    hp_communes: list[Any], payer: Any, national_catalog: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTCUA_FAILPOINTS", "onboarding.step.procedures:raise")
    application = run_pipeline(approved(hp_communes[0], payer))
    assert application.state == S.FAILED
    assert application.step == "procedures" and "failpoint" in application.error
    assert application.steps_done == ["agency", "schema", "domain", "branding"]
    with agency_context(application.agency):
        assert not AgencyProcedure.objects.exists()  # the failed step's work was rolled back
    monkeypatch.delenv("MOTCUA_FAILPOINTS")

    application = retry(application)
    assert application.state == S.PROVISIONING
    application = run_pipeline(application)
    assert application.state == S.LIVE, application.error
    assert application.error == ""
    assert Agency.objects.filter(slug=application.slug).count() == 1
    with agency_context(application.agency):
        codes = list(AgencyProcedure.objects.values_list("code", flat=True))
        assert len(codes) == len(set(codes)) > 0
    # Running again changes nothing.
    again = run_pipeline(application)
    assert again.state == S.LIVE
    assert Membership.objects.filter(agency=application.agency).count() == 1
    assert Subscription.objects.filter(agency=application.agency).count() == 1
    assert len(mail.outbox) == 1
    assert application.events.filter(event="retry").count() == 1


@pytest.mark.django_db
def test_agencies_onboarded_side_by_side_keep_their_data_apart(
    hp_communes: list[Any], payer: Any, national_catalog: None
) -> None:
    a = run_pipeline(approved(hp_communes[0], payer))
    b = run_pipeline(approved(hp_communes[1], payer))
    from portal.branding import branding_update

    with agency_context(a.agency):
        branding_update(display_name="Chỉ của A")
    with agency_context(b.agency):
        assert Branding.objects.get(pk=1).display_name == b.name
    assert Membership.objects.get(agency=a.agency).user.email == a.admin_email
    assert Membership.objects.get(agency=b.agency).user.email == b.admin_email
    assert a.agency.schema_name != b.agency.schema_name


@pytest.mark.django_db
def test_suspending_and_reactivating_a_live_application_follows_the_agency(
    hp_communes: list[Any], plans: None
) -> None:
    application = run_pipeline(approved(hp_communes[0]))
    suspended: Any = services.application_suspend(
        application=application, actor_email="s@x.vn", reason="Chưa thanh toán"
    )
    assert suspended.state == S.SUSPENDED
    assert Agency.objects.get(pk=application.agency.pk).status == AgencyStatus.SUSPENDED
    live: Any = services.application_reactivate(application=suspended)
    assert live.state == S.LIVE
    assert Agency.objects.get(pk=application.agency.pk).status == AgencyStatus.ACTIVE
    assert list(
        live.events.filter(to_state__in=["suspended", "live"]).order_by("id").values_list("event")
    ) == [("live",), ("suspended",), ("reactivated",)]
