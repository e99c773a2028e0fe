"""Create a new agency from an exit pack (all or nothing)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding.exitpack import exit_pack_import
from onboarding.offboarding import exit_pack_fetched


class Command(BaseCommand):
    help = "Import an exit pack into a new agency with the given slug."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", help="the pack: a local file, or s3://bucket/prefix/name as a run recorded it"
        )
        parser.add_argument("--slug", required=True, help="slug of the new agency")
        parser.add_argument("--name", default="", help="display name (default: the pack's)")

    def handle(self, *args: Any, **options: Any) -> None:
        where, slug, name = options["path"], options["slug"], options["name"]
        try:
            if where.startswith("s3://"):
                with exit_pack_fetched(where=where) as path:
                    agency = exit_pack_import(path=path, slug=slug, name=name)
            else:
                agency = exit_pack_import(path=where, slug=slug, name=name)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"imported into {agency.slug} (schema {agency.schema_name})")
