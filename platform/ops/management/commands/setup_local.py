"""Prepare a local installation: migrate everything, build the template, seed the demo."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Migrate public + template + agencies; with --demo, seed the demo province (and, "
        "with DEBUG, its demo accounts and a month of their work)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo", action="store_true")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("migrate_agencies", verbosity=1)
        if opts["demo"]:
            call_command("seed_demo", with_people=settings.DEBUG)
            if settings.DEBUG and settings.SIGNING_P12_PASSWORD:
                # The demo's agencies and leaders get development signing keys (kept if there).
                call_command("signing_dev_ca", verbosity=0, stdout=self.stdout)
