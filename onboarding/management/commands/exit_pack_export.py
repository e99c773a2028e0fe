"""Write an agency's exit pack (every tenant table, its public rows and files) to a zip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding.exitpack import exit_pack_export, exit_pack_verify
from onboarding.offboarding import agency_offboard
from tenants.models import Agency, AgencyStatus


class Command(BaseCommand):
    help = "Export an agency's exit pack; with --offboard, then drop its (suspended) schema."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("path", help="the zip file to write")
        parser.add_argument("--offboard", action="store_true", help="offboard after the export")

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(slug=options["slug"]).first()
        if agency is None:
            raise CommandError(f"No agency with the slug {options['slug']!r}.")
        if agency.status not in (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED):
            raise CommandError(f"{agency.slug} is {agency.status}: it has no schema to export.")

        def progress(percent: int, step: str) -> None:
            self.stdout.write(f"\r[{percent:3d}%] {step[:50]:<50}", ending="")

        try:
            info = exit_pack_export(agency=agency, path=Path(options["path"]), progress=progress)
            self.stdout.write("")
            exit_pack_verify(path=info.path)
            if options["offboard"]:
                agency_offboard(agency=agency, pack=info.path)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        rows = sum(t["rows"] for t in info.manifest["tables"])
        self.stdout.write(
            f"{info.path}: {len(info.manifest['tables'])} tables, {rows} rows, "
            f"{info.manifest['files']['count']} files, {info.size} bytes, sha256 {info.sha256}"
        )
