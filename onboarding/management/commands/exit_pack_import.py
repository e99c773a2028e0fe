"""Create a new agency from an exit pack (all or nothing)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding.exitpack import exit_pack_import


class Command(BaseCommand):
    help = "Import an exit pack into a new agency with the given slug."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--slug", required=True, help="slug of the new agency")
        parser.add_argument("--name", default="", help="display name (default: the pack's)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            agency = exit_pack_import(
                path=options["path"], slug=options["slug"], name=options["name"]
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"imported into {agency.slug} (schema {agency.schema_name})")
