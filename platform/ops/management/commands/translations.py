"""Maintain the translation catalogs: extract messages and compile .mo files (no gettext needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from ops.translations import compile_catalogs, extract_messages


class Command(BaseCommand):
    help = "--extract updates the .po files (needs xgettext); --compile writes the .mo files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--extract", action="store_true")
        parser.add_argument("--compile", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["extract"]:
            extract_messages(Path(settings.BASE_DIR))
            self.stdout.write("catalogs updated from the code")
        if opts["compile"] or not opts["extract"]:
            for path in compile_catalogs():
                self.stdout.write(f"compiled {path}")
