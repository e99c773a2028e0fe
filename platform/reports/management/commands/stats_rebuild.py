"""Recompute the statistics rollups from the agency schemas: ``stats_rebuild [--agency slug]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.services import stats_rebuild
from tenants.models import Agency


class Command(BaseCommand):
    help = "Recompute the statistics rollups from the agencies' own tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agency", action="append", help="agency slug (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        agencies = Agency.objects.exclude(schema_name="public").order_by("pk")
        if options["agency"]:
            agencies = agencies.filter(slug__in=options["agency"])
            missing = set(options["agency"]) - set(agencies.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"unknown agency: {', '.join(sorted(missing))}")
        for agency in agencies.iterator():
            rows = stats_rebuild(agency=agency)
            self.stdout.write(f"{agency.slug}: {rows} rows")
