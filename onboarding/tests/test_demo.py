"""The demo province that `dev.py up` seeds: complete, idempotent, billable."""

from __future__ import annotations

from typing import Any

import pytest

from billing.invoicing import invoices_prepare
from billing.models import Invoice, Subscription
from billing.pricing import month_start
from dossiers.models import FeeChannel
from lifecycle.fees import fee_channels_offered, fee_settings
from onboarding.demo import demo_province_seed
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tenants.models import AgencyStatus


@pytest.mark.django_db
def test_demo_province_is_complete_and_idempotent() -> None:
    messages: list[str] = []
    first = demo_province_seed(communes=1, report=messages.append)
    again = demo_province_seed(communes=1)

    assert [a.pk for a in first] == [a.pk for a in again]
    assert len(first) == 5  # four departments or centres and one commune
    assert all(a.status == AgencyStatus.ACTIVE for a in again)
    for agency in again:
        with agency_context(agency):
            assert AgencyProcedure.objects.filter(published_version__isnull=False).exists(), (
                agency.slug,
                messages,
            )
            # Fees can be paid in the demo with no outside service: by VietQR transfer.
            assert FeeChannel.VIETQR in fee_channels_offered(), agency.slug
            assert fee_settings().bank_account.startswith("1900")
    # One payer rents the service for every demo agency; its invoice comes from the ledger.
    assert Subscription.objects.filter(agency__in=first, ends_on__isnull=True).count() == 5
    assert Subscription.objects.values("billing_account").distinct().count() == 1
    period = month_start(Subscription.objects.first().starts_on)
    report = invoices_prepare(period_start=period)
    invoice: Any = Invoice.objects.get(pk=report.invoice_ids[0])
    assert invoice.lines.filter(kind="subscription").count() == 5
    assert any("imported the sample national catalog" in m for m in messages)


@pytest.fixture
def demo_people(db: None) -> dict[str, Any]:
    from onboarding.demo import DEMO_PEOPLE, demo_home_agency, demo_people_seed

    demo_province_seed(communes=1)
    home = demo_home_agency()
    assert home is not None
    users = demo_people_seed(agency=home)
    return {"agency": home, **{p.key: u for p, u in zip(DEMO_PEOPLE, users, strict=True)}}


@pytest.mark.django_db
def test_demo_people_have_their_roles_and_the_staff_a_second_factor(demo_people) -> None:
    from allauth.account.models import EmailAddress

    from accounts.models import Membership
    from onboarding.demo import DEMO_PASSWORD, demo_people_seed, demo_totp_code
    from tests.fixtures.mfa import totp_code

    home = demo_people["agency"]
    roles = {
        m.user.email: set(m.roles) for m in Membership.objects.filter(agency=home, is_active=True)
    }
    assert roles == {
        "quantri@motcua.localhost": {"admin"},
        "canbo@motcua.localhost": {"receptionist", "officer"},
        "lanhdao@motcua.localhost": {"leader"},
    }
    provider = demo_people["provider"]
    assert provider.is_staff and provider.is_superuser
    for key in ("provider", "agency_admin", "officer", "leader", "citizen"):
        user = demo_people[key]
        assert user.check_password(DEMO_PASSWORD), key
        assert EmailAddress.objects.filter(user=user, verified=True, primary=True).exists(), key
    # The staff's authenticator gives the code `dev.py totp` prints; the citizen has none.
    code = demo_totp_code(email="CANBO@motcua.localhost")
    assert code is not None and code.code == totp_code(code.secret)
    assert demo_totp_code(email="congdan@motcua.localhost") is None
    # Idempotent: nothing is duplicated, the secret stays.
    demo_people_seed(agency=home)
    again = demo_totp_code(email="canbo@motcua.localhost")
    assert again is not None and again.secret == code.secret


@pytest.mark.django_db
def test_demo_month_has_dossiers_in_every_state_and_real_figures(demo_people) -> None:
    from django.utils import timezone

    from billing.invoicing import previous_period
    from billing.models import UsageEvent
    from dossiers.models import Apology, ApologyStatus, Dossier, DossierStatus, Refusal
    from exchange.models import Exchange
    from onboarding.demo_activity import demo_activity_seed
    from reports.models import DailyAgencyStat
    from results.models import Rating

    home = demo_people["agency"]
    people = {k: v for k, v in demo_people.items() if k != "agency"}
    first = demo_activity_seed(agency=home, people=people)
    assert first.dossiers >= 30 and not first.skipped

    today = timezone.localdate()
    with agency_context(home):
        statuses = set(Dossier.objects.values_list("status", flat=True))
        assert {
            DossierStatus.RECEIVED,
            DossierStatus.IN_PROCESSING,
            DossierStatus.SUPPLEMENT_REQUESTED,
            DossierStatus.TRANSFERRED,
            DossierStatus.RESULT_READY,
            DossierStatus.RETURNED,
        } <= statuses
        assert Rating.objects.count() >= 5
        apologies = set(Apology.objects.values_list("status", flat=True))
        assert {ApologyStatus.DRAFT, ApologyStatus.SIGNED} <= apologies | {ApologyStatus.SENT}
        assert Apology.objects.exclude(status=ApologyStatus.DRAFT).exists()
        assert Refusal.objects.exists()
        open_ = Dossier.objects.filter(status=DossierStatus.IN_PROCESSING)
        assert open_.filter(due_date__lt=today).exists()  # overdue
        # The citizen has something to do: a supplement to send, a result to rate.
        mine = Dossier.objects.filter(applicant=people["citizen"])
        assert mine.filter(status=DossierStatus.SUPPLEMENT_REQUESTED).exists()
        assert mine.filter(status=DossierStatus.RETURNED, rating__isnull=True).exists()
        # Nothing happened in the future.
        assert not Dossier.objects.filter(received_at__gt=timezone.now()).exists()
        oldest = Dossier.objects.order_by("received_at").first().received_at
        assert (today - timezone.localdate(oldest)).days >= 28
    assert Exchange.objects.filter(sender=home).exists()
    # A month of statistics and usage, and last month invoiced.
    days = DailyAgencyStat.objects.filter(agency=home).values("day").distinct().count()
    assert days >= 20
    assert UsageEvent.objects.filter(agency_id=home.pk).count() >= first.dossiers
    assert (
        Invoice.objects.filter(period_start=previous_period(today)).exclude(status="draft").exists()
    )

    # Run again at every `up`: nothing is added, and it costs nothing.
    again = demo_activity_seed(agency=home, people=people)
    assert again.skipped and again.dossiers == 0
    with agency_context(home):
        assert Dossier.objects.count() == first.dossiers


@pytest.mark.django_db
def test_up_prints_an_account_per_role_and_how_to_pass_the_second_factor(
    demo_people, settings
) -> None:
    from io import StringIO

    from django.core.management import call_command

    settings.DEBUG = True
    out = StringIO()
    call_command("print_urls", "--port", "8000", stdout=out)
    text = out.getvalue()
    host = demo_people["agency"].domains.get(is_primary=True).domain
    for line in (
        "admin@motcua.localhost       http://localhost:8000/console/",
        f"quantri@motcua.localhost     http://{host}:8000/quan-tri/",
        f"canbo@motcua.localhost       http://{host}:8000/mot-cua/",
        f"lanhdao@motcua.localhost     http://{host}:8000/mot-cua/",
        f"congdan@motcua.localhost     http://{host}:8000/ho-so-cua-toi/",
        "python3 dev.py totp EMAIL",
        "password for all: motcua-demo",
    ):
        assert line in text, line
    settings.DEBUG = False
    quiet = StringIO()
    call_command("print_urls", stdout=quiet)
    assert "motcua-demo" not in quiet.getvalue()
