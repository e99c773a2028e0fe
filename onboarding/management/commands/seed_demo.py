"""Create the demo province (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from onboarding.demo import DEMO_COMMUNES, DEMO_PROVINCE, demo_province_seed


class Command(BaseCommand):
    help = "Create and provision a few departments and communes of a province for a demo."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--province", default=DEMO_PROVINCE)
        parser.add_argument("--communes", type=int, default=DEMO_COMMUNES)

    def handle(self, *args: Any, **opts: Any) -> None:
        agencies = demo_province_seed(
            province_code=opts["province"], communes=opts["communes"], report=self.stdout.write
        )
        self.stdout.write(self.style.SUCCESS(f"demo province ready: {len(agencies)} agencies"))
