"""Fail when a Vietnamese translation is missing, fuzzy, not compiled, or not extracted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ops.translations import check_catalogs


class Command(BaseCommand):
    help = "Check the translation catalogs, ours and the allauth one (CI runs this)."

    def handle(self, *args: Any, **opts: Any) -> None:
        report = check_catalogs(Path(settings.BASE_DIR))
        problems = {
            "untranslated": report.untranslated,
            "fuzzy": report.fuzzy,
            ".mo out of date (run manage.py translations --compile)": report.stale_mo,
            "in the code but not in the catalog (run manage.py translations --extract)": (
                report.not_extracted
            ),
            "allauth shows it but platform/localization does not translate it": (
                report.allauth_missing
            ),
            "in platform/localization but no longer in allauth (remove it)": (
                report.allauth_obsolete
            ),
        }
        for label, items in problems.items():
            for item in items:
                self.stderr.write(f"{label}: {item!r}")
        if not report.ok:
            raise CommandError("translation catalogs are incomplete")
        self.stdout.write(self.style.SUCCESS("translations complete"))
