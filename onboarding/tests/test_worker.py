"""The pipeline as a Celery chain on a real worker, including a failing step and a retry."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from django.conf import settings

from accounts.models import Membership
from billing.models import Subscription
from onboarding import services
from onboarding.models import Application, ApplicationState
from onboarding.tests.conftest import apply_commune
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tenants.models import Agency
from tests.fixtures.worker import ROOT, WorkerProcess

S = ApplicationState


def wait_for(application: Application, *states: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        application.refresh_from_db()
        if application.state in states:
            return application
        time.sleep(0.3)
    raise AssertionError(f"still {application.state} at {application.step}: {application.error}")


@pytest.mark.django_db(transaction=True)
def test_approval_runs_the_chain_on_the_worker_until_live(
    worker: Any, hp_communes: list[Any], payer: Any, national_catalog: None
) -> None:
    application = apply_commune(hp_communes[0])
    services.application_approve(application=application, billing_account=payer)
    application = wait_for(application, S.LIVE, S.FAILED)
    assert application.state == S.LIVE, application.error
    assert application.steps_done == list(services.STEPS)
    assert application.invited_at is not None
    assert Subscription.objects.filter(agency=application.agency).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_step_failing_on_the_worker_is_retried_to_completion_without_duplicates(
    celery_worker_process: WorkerProcess,
    hp_communes: list[Any],
    payer: Any,
    national_catalog: None,
) -> None:
    celery_worker_process.stop()  # only the failing worker may take the first chain
    env = dict(celery_worker_process.env)
    env["MOTCUA_FAILPOINTS"] = "onboarding.step.admin:raise"
    failing = WorkerProcess(env, ROOT / "var" / "test-logs" / "celery-worker-failing.log")
    failing.start()
    try:
        application = apply_commune(hp_communes[1])
        services.application_approve(application=application, billing_account=payer)
        application = wait_for(application, S.FAILED, S.LIVE)
    finally:
        failing.stop()
    assert application.state == S.FAILED
    assert application.step == "admin" and "failpoint" in application.error
    assert "admin" not in application.steps_done
    assert not Membership.objects.filter(agency=application.agency).exists()  # rolled back

    celery_worker_process.ensure_running()
    services.application_retry(application=application, actor_email="staff@example.vn")
    application = wait_for(application, S.LIVE, S.FAILED)
    assert application.state == S.LIVE, application.error
    assert Agency.objects.filter(slug=application.slug).count() == 1
    assert Membership.objects.filter(agency=application.agency).count() == 1
    assert Subscription.objects.filter(agency=application.agency).count() == 1
    with agency_context(application.agency):
        codes = list(AgencyProcedure.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) > 0
    assert application.events.filter(event="step_failed").count() == 1
    assert os.environ.get("MOTCUA_FAILPOINTS") is None
    assert settings.DATABASES["default"]["NAME"] == env["DATABASE_NAME"]
