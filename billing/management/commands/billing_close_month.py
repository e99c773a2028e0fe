"""Month-end invoicing: draft every billing account's invoice from the ledger, then issue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billing.invoicing import billing_month_close, invoices_prepare, previous_period


def _month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError as exc:
        raise CommandError(f"--period must look like 2026-10, not {value!r}") from exc


class Command(BaseCommand):
    help = "Invoice a month (default: last month). --draft-only prepares without issuing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", type=_month, help="YYYY-MM (default: last month)")
        parser.add_argument("--draft-only", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        period = opts["period"] or previous_period(timezone.localdate())
        try:
            if opts["draft_only"]:
                prepared = invoices_prepare(period_start=period)
                issued = 0
            else:
                report = billing_month_close(period_start=period)
                prepared, issued = report.prepared, report.issued
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"{period:%m/%Y}: {prepared.drafted} invoice(s) drafted, {issued} issued,"
            f" {prepared.skipped_issued} already issued; {prepared.lines} lines,"
            f" total {prepared.total:,} VND"
        )
