"""Month-end invoicing for 4,000 agencies under 300 billing accounts (issue 6): goal ≤ 60 s.

The bench database gets 4,000 agencies (rows only: invoicing reads public tables), 300 payers, the
default plans, subscriptions (some joining or leaving mid-month, for proration) and about a
million ledger rows for October 2026. Then ``billing_month_close`` rolls the ledger up, drafts
and issues every invoice; the figures are checked against the ledger afterwards.
"""

from __future__ import annotations

import datetime as dt
import time

from tests.perf.common import bench_line, detail, prepare_database, setup_django, size

AGENCIES = size(4_000, 100)
ACCOUNTS = size(300, 10)
PERIOD = dt.date(2026, 10, 1)
KINDS = ["commune"] * 80 + ["department"] * 12 + ["district"] * 6 + ["service_centre", "other"]


def _seed() -> None:
    from django.db import connection

    from billing.models import BillingAccount, Plan, Subscription
    from billing.pricing import plans_ensure_defaults
    from tenants.models import Agency

    plans_ensure_defaults()
    plans = {p.agency_kind: p for p in Plan.objects.filter(is_default=True)}
    Agency.objects.bulk_create(
        Agency(
            slug=f"bench-{i}",
            schema_name=f"bench_{i}",
            name=f"Cơ quan thử {i}",
            kind=KINDS[i % len(KINDS)],
            province_code=f"{(i % 34) + 1:02d}",
            code=f"B{i}",
            status="active",
        )
        for i in range(AGENCIES)
    )
    BillingAccount.objects.bulk_create(
        BillingAccount(
            name=f"UBND thử {i}", tax_code=f"{9_000_000_000 + i}", address="—",
            email=f"payer{i}@example.vn",
        )
        for i in range(ACCOUNTS)
    )  # fmt: skip
    accounts = list(BillingAccount.objects.order_by("pk").values_list("pk", flat=True))
    agencies = list(Agency.objects.filter(slug__startswith="bench-").order_by("pk"))
    subscriptions = []
    for i, agency in enumerate(agencies):
        starts = dt.date(2026, 10, 11) if i % 50 == 0 else dt.date(2026, 1, 1)
        ends = dt.date(2026, 10, 20) if i % 70 == 0 else None
        subscriptions.append(
            Subscription(agency=agency, billing_account_id=accounts[i % ACCOUNTS],
                         plan=plans[agency.kind], starts_on=starts, ends_on=ends)
        )  # fmt: skip
    Subscription.objects.bulk_create(subscriptions)
    # ~1 M ledger rows: dossiers through the month, online ones, SMS, and daily readings.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO billing_usageevent
                (agency_id, metric, quantity, occurred_at, idempotency_key, created_at)
            SELECT a.id, m.metric, m.quantity,
                   timestamptz '2026-10-01 00:00+07' + (n * interval '1 minute') * m.spread,
                   m.metric || ':' || a.id || ':' || n, now()
            FROM tenants_agency a
            CROSS JOIN (VALUES ('dossier_received', 1, 100, 400), ('dossier_online', 1, 60, 700),
                               ('sms_sent', 1, 40, 1000), ('storage_gb_day', 0.35, 31, 1440),
                               ('staff_seat_day', 6, 31, 1440))
                 AS m(metric, quantity, per_agency, spread)
            CROSS JOIN LATERAL generate_series(0, m.per_agency - 1 + (a.id % 7)) AS n
            WHERE a.slug LIKE 'bench-%%'
            """
        )
        cursor.execute("ANALYZE")


def run() -> None:
    setup_django("invoicing")
    prepare_database()
    from django.db.models import Sum

    from billing.invoicing import billing_month_close
    from billing.models import Invoice, InvoiceLine, UsageEvent

    started = time.perf_counter()
    _seed()
    detail(
        f"seeded {UsageEvent.objects.count():,} ledger rows in {time.perf_counter() - started:.1f}s"
    )

    started = time.perf_counter()
    report = billing_month_close(period_start=PERIOD)
    seconds = time.perf_counter() - started

    invoices = Invoice.objects.filter(period_start=PERIOD)
    assert report.issued == ACCOUNTS == invoices.filter(status="issued").count(), report
    lines = InvoiceLine.objects.filter(invoice__period_start=PERIOD)
    # Lines are before VAT: they add up to the invoices' subtotals; each total adds its VAT.
    sums = invoices.aggregate(subtotal=Sum("subtotal"), vat=Sum("vat_amount"), total=Sum("total"))
    assert sums["subtotal"] == lines.aggregate(t=Sum("amount"))["t"], sums
    assert sums["total"] == sums["subtotal"] + sums["vat"], sums
    numbers = set(invoices.values_list("number", flat=True))
    assert len(numbers) == ACCOUNTS, "invoice numbers must be unique"
    detail(f"{report.prepared.lines:,} lines, total {report.prepared.total:,} VND")
    bench_line("invoicing_month_close", seconds, "s", "<=60")


if __name__ == "__main__":
    run()
