"""Month-end invoicing: draft every billing account's invoice from the ledger, then issue.

Only a month that has ended (Vietnam time) is closed; ``--force --reason "…"`` closes one
earlier, recorded in the billing audit trail. The service decides; this command only asks it.
"""

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
    help = (
        "Invoice a month (default: last month). --draft-only prepares without issuing; a month"
        ' that has not ended is closed only with --force --reason "…" (audited).'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", type=_month, help="YYYY-MM (default: last month)")
        parser.add_argument("--draft-only", action="store_true")
        parser.add_argument(
            "--force", action="store_true", help="close a month that has not ended yet"
        )
        parser.add_argument("--reason", default="", help="why the month is closed early")
        parser.add_argument("--actor", default="", help="e-mail of who closes it (audit)")

    def handle(self, *args: Any, **opts: Any) -> None:
        period = opts["period"] or previous_period(timezone.localdate())
        if opts["reason"] and not opts["force"]:
            raise CommandError("--reason goes with --force")
        try:
            if opts["draft_only"]:
                prepared = invoices_prepare(period_start=period)
                issued = 0
            else:
                report = billing_month_close(
                    period_start=period,
                    actor_email=opts["actor"],
                    force=opts["force"],
                    reason=opts["reason"],
                )
                prepared, issued = report.prepared, report.issued
        except ValidationError as exc:
            hint = ""
            if any(getattr(e, "code", "") == "period_not_ended" for e in exc.error_list):
                hint = ' (--force --reason "…")'
            raise CommandError("; ".join(exc.messages) + hint) from exc
        self.stdout.write(
            f"{period:%m/%Y}: {prepared.drafted} invoice(s) drafted, {issued} issued,"
            f" {prepared.skipped_issued} already issued; {prepared.lines} lines,"
            f" total {prepared.total:,} VND"
        )
