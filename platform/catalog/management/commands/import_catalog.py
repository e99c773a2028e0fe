"""Import the national procedure catalog from a JSON file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.data import SAMPLE_CATALOG as SAMPLE
from catalog.services import CatalogImportError, catalog_import


class Command(BaseCommand):
    help = "Import procedures (format of procedures.sample.json); re-import adds versions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default=str(SAMPLE))
        parser.add_argument("--effective-from", type=dt.date.fromisoformat, default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            report = catalog_import(raw=path.read_bytes(), effective_from=opts["effective_from"])
        except CatalogImportError as exc:
            for error in exc.errors:
                self.stderr.write(f"  {error}")
            raise CommandError(f"{len(exc.errors)} error(s); nothing was imported") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"catalog: {len(report.created)} new, {len(report.new_versions)} new versions, "
                f"{len(report.unchanged)} unchanged"
            )
        )
