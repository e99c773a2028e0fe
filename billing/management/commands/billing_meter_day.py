"""Record the daily storage and staff-seat readings of every billed agency."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billing.metering import usage_meter_day


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--day must look like 2026-10-31, not {value!r}") from exc


class Command(BaseCommand):
    help = "Meter storage (GB-day) and staff seats for a day (default: yesterday); idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", type=_day)

    def handle(self, *args: Any, **opts: Any) -> None:
        day = opts["day"] or timezone.localdate() - dt.timedelta(days=1)
        report = usage_meter_day(day=day)
        self.stdout.write(
            f"{day}: {report.storage_rows} storage and {report.seat_rows} seat reading(s) recorded"
        )
