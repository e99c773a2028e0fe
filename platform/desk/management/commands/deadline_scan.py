"""Run the daily deadline job now: ``manage.py deadline_scan [--date YYYY-MM-DD] [--days N]``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from desk.deadlines import deadline_scan


class Command(BaseCommand):
    help = "Prepare Form 04 drafts and due-soon reminders in every agency (idempotent per day)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None)
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        report = deadline_scan(today=options["date"], days=options["days"])
        self.stdout.write(
            f"agencies={report.agencies} apologies={report.apologies} reminders={report.reminders}"
        )
