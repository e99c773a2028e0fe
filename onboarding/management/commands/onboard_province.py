"""Onboard every commune of a province plus a department list (idempotent)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.models import BillingAccount
from onboarding.bulk import departments_parse, province_onboard
from onboarding.models import Application
from tenants.units import DATA_DIR


class Command(BaseCommand):
    help = "Create, approve and provision an application for every commune and department."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("province", help="official province code, e.g. 31")
        parser.add_argument(
            "--departments",
            default=str(DATA_DIR / "departments.sample.json"),
            help="JSON file in the format of departments.sample.json",
        )
        parser.add_argument("--billing-account", default="", help="tax code of the payer")
        parser.add_argument("--communes", type=int, default=None, help="only the first N communes")

    def _bar(self, index: int, total: int, application: Application) -> None:
        width = 30
        filled = int(width * index / total) if total else width
        bar = "#" * filled + "." * (width - filled)
        line = f"\r[{bar}] {index}/{total} {application.slug[:40]:<40}"
        self.stdout.write(line, ending="")
        if index == total:
            self.stdout.write("")
        sys.stdout.flush()

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["departments"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        account = None
        if opts["billing_account"]:
            account = BillingAccount.objects.filter(tax_code=opts["billing_account"]).first()
            if account is None:
                raise CommandError(f"no billing account with tax code {opts['billing_account']}")
        try:
            departments = departments_parse(path.read_bytes())
            report = province_onboard(
                province_code=opts["province"],
                departments=departments,
                billing_account=account,
                communes=opts["communes"],
                progress=self._bar,
            )
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        self.stdout.write(
            f"{len(report.live)} live, {report.skipped} already there, "
            f"{len(report.failed)} failed in {report.seconds:.1f}s "
            f"(median {report.median_seconds:.2f}s per agency)"
        )
        for slug, error in report.failed.items():
            self.stderr.write(f"failed {slug}: {error}")
        if report.failed:
            raise CommandError("some agencies failed; re-run the command to retry them")
