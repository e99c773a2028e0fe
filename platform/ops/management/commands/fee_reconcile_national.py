"""Fetch and import the national payment platform's reconciliation files (what the daily job
does), for a given day: every agency offering the platform, each applied at most once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lifecycle.fees import fee_national_reconcile_for_each_agency, national_platform_configured


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date: {value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Import the national payment platform's file of a day (default: yesterday) per agency."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", default=None, help="YYYY-MM-DD (default: yesterday)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not national_platform_configured():
            raise CommandError("NATIONAL_PAYMENT_URL and NATIONAL_PAYMENT_SECRET are not set.")
        day = _day(options["date"]) if options["date"] else None
        for schema, outcome in fee_national_reconcile_for_each_agency(day=day).items():
            self.stdout.write(f"{schema}: {outcome}")
