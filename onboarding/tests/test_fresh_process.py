"""A fresh process sends its tasks to the configured broker, and lost work shows as stuck.

The bug this guards against: a web or ``manage.py`` process that had not imported
``config.celery_app`` sent its first task to Celery's default broker (``amqp://localhost``),
so the first application approved after start-up stayed at "Provisioning 0%" and
``provision_agency --async`` printed "queued" for an agency that never went live. These
tests start the processes the way people do — nothing warmed up in them — against the
test database, with a real worker on the test broker.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accounts.models import User
from onboarding import selectors, services
from onboarding.models import Application, ApplicationEvent, ApplicationState
from onboarding.tests.conftest import apply_commune
from tenants.models import Agency, AgencyStatus
from tests.fixtures.http import HostClient
from tests.fixtures.mfa import mfa_login
from tests.fixtures.worker import ROOT, WorkerProcess
from tests.perf.common import gunicorn_serving

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
S = ApplicationState


def eventually(check: Callable[[], Any], *, timeout: float = 90, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout:.0f}s: {what}")


def fresh_env(worker: WorkerProcess) -> dict[str, str]:
    """The worker's environment: test settings, the test database, the test broker."""
    return dict(worker.env)


def test_provision_agency_async_from_a_fresh_manage_process_goes_live(
    worker: WorkerProcess,
) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "provision_agency", "xa-hang-doi", "--name",
         "Xã Hàng Đợi", "--province", "31", "--async"],
        cwd=ROOT, env=fresh_env(worker), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "queued" in done.stdout
    agency = eventually(
        lambda: Agency.objects.filter(slug="xa-hang-doi", status=AgencyStatus.ACTIVE).first(),
        what="the agency queued by a fresh manage.py process goes live on the worker",
    )
    assert agency.schema_name


def test_the_first_request_of_a_fresh_web_process_approves_and_the_agency_goes_live(
    worker: WorkerProcess, hp_communes: list[Any], payer: Any, national_catalog: None
) -> None:
    application = apply_commune(hp_communes[0])
    staff = User.objects.create_user("vanhanh@example.vn", "mat-khau-rat-dai-1", is_staff=True)
    client = mfa_login(Client(), staff)  # a signed-in, second-factor session in the database
    session = client.cookies[settings.SESSION_COOKIE_NAME].value

    env = {**fresh_env(worker), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    with gunicorn_serving(workers=1, threads=2, env=env) as port:
        web = HostClient(port=port, cookies={"localhost": {settings.SESSION_COOKIE_NAME: session}})
        page = web.get("localhost", f"/console/onboarding/{application.pk}/")
        assert page.status == 200, page.body[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token is not None
        body = f"csrfmiddlewaretoken={token.group(1)}&billing_account={payer.pk}".encode()
        approved = web.request(
            "POST", "localhost", f"/console/onboarding/{application.pk}/approve/", body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Referer": f"http://localhost:{port}/"},
        )  # fmt: skip
        assert approved.status == 302, approved.body[:500]

    def live() -> bool:
        application.refresh_from_db()
        return application.state in (S.LIVE, S.FAILED)

    eventually(live, what="the application approved in a fresh web process goes live")
    assert application.state == S.LIVE, application.error


def test_a_stuck_application_is_shown_with_a_retry_that_resumes_it(
    worker: WorkerProcess, hp_communes: list[Any], payer: Any, national_catalog: None
) -> None:
    application = apply_commune(hp_communes[1])
    # Approved, but its tasks are lost (sent nowhere): provisioning at 0 % for ever.
    services.application_approve(application=application, billing_account=payer, start=False)
    services.application_pipeline_start(application=application, send=False)
    quiet = timezone.now() - dt.timedelta(seconds=settings.ONBOARDING_STUCK_AFTER_SECONDS + 5)
    Application.objects.filter(pk=application.pk).update(updated_at=quiet)
    application.refresh_from_db()
    assert selectors.application_stuck(application)

    staff = User.objects.create_user("vanhanh2@example.vn", "mat-khau-rat-dai-1", is_staff=True)
    client = mfa_login(Client(), staff)
    listing = client.get("/console/onboarding/").content.decode()
    assert "status-failed" in listing  # the "stuck" badge beside the state
    page = client.get(f"/console/onboarding/{application.pk}/")
    assert page.context["stuck"] is True
    assert f"/console/onboarding/{application.pk}/retry/" in page.content.decode()
    assert client.get(f"/console/onboarding/{application.pk}/progress.json").json()["stuck"] is True

    response = client.post(f"/console/onboarding/{application.pk}/retry/")
    assert response.status_code == 302
    eventually(
        lambda: Application.objects.get(pk=application.pk).state == S.LIVE,
        what="the retried application goes live",
    )
    events = list(ApplicationEvent.objects.filter(application=application).values_list(
        "event", "actor_email"))  # fmt: skip
    assert ("resumed", "vanhanh2@example.vn") in events


def test_retry_is_refused_while_the_pipeline_is_still_moving(
    db: None, hp_communes: list[Any], payer: Any
) -> None:
    application = apply_commune(hp_communes[2])
    services.application_approve(application=application, billing_account=payer, start=False)
    application = services.application_pipeline_start(application=application, send=False)
    assert not selectors.application_stuck(application)
    with pytest.raises(ValidationError) as refused:
        services.application_retry(application=application)
    assert refused.value.code == "transition"


def test_an_unreachable_broker_fails_the_application_with_the_reason(
    transactional_db: None, hp_communes: list[Any], payer: Any, celery_worker_process: Any
) -> None:
    """A web process whose broker is down: the approval stands, and the application says at
    once that its work could not be queued (with a retry button), instead of "0 %" for ever."""
    application = apply_commune(hp_communes[3])
    env = {**fresh_env(celery_worker_process), "REDIS_URL": "redis://127.0.0.1:9/0"}
    script = (
        "import django; django.setup()\n"
        "from billing.models import BillingAccount\n"
        "from onboarding.models import Application\n"
        "from onboarding.services import application_approve\n"
        f"application_approve(application=Application.objects.get(pk={application.pk}),"
        f" billing_account=BillingAccount.objects.get(pk={payer.pk}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    application.refresh_from_db()
    assert application.state == S.FAILED
    assert "could not be reached" in application.error or "hàng đợi" in application.error
    assert ApplicationEvent.objects.filter(application=application, event="queue_failed").exists()
