"""Migrate the public schema, the template and every agency schema that needs it."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants import services


class Command(BaseCommand):
    help = (
        "Apply pending migrations: public schema, template, then each agency schema whose "
        "recorded state differs from the code (others are skipped without a migration run)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--verify",
            action="store_true",
            help="also read every schema's django_migrations to catch drift",
        )
        parser.add_argument(
            "--repair-missing",
            action="store_true",
            help="recreate (empty, from the template) live agency schemas that no longer exist",
        )
        parser.add_argument("--skip-public", action="store_true")
        parser.add_argument(
            "--schema",
            action="append",
            dest="only",
            help="limit to these agency schemas (repeatable)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        verbosity = int(opts["verbosity"])
        if not opts["skip_public"]:
            call_command(
                "migrate_schemas", shared=True, interactive=False, verbosity=max(0, verbosity - 1)
            )
        tty = sys.stdout.isatty()

        def progress(index: int, total: int, schema: str, state: str) -> None:
            if verbosity == 0:
                return
            width = 30
            filled = int(width * index / total) if total else width
            bar = "#" * filled + "-" * (width - filled)
            line = f"[{bar}] {index}/{total} {schema}: {state}"
            if tty and state == "migrating":
                self.stdout.write("\r" + line.ljust(90), ending="")
            elif state != "migrating":
                self.stdout.write(("\r" if tty else "") + line.ljust(90))

        report = services.agencies_migrate(
            verify=opts["verify"],
            repair_missing=opts["repair_missing"],
            only=opts["only"],
            progress=progress,
        )
        migrated = report.migrated or []
        self.stdout.write(
            f"{report.total} agency schemas: {len(migrated)} migrated, {report.skipped} already "
            f"up to date (skipped), {len(report.failed or {})} failed, in {report.seconds:.2f}s"
        )
        recreated = set(report.recreated or [])
        for schema in report.recreated or []:
            self.stdout.write(f"  {schema}: schema was missing; recreated empty from the template")
        lost = [name for name in report.missing or [] if name not in recreated]
        for schema in lost:
            self.stderr.write(
                f"  {schema}: the agency is live but its schema does not exist (its data is "
                "gone): restore it from a backup, or run with --repair-missing to recreate "
                "it empty"
            )
        if report.failed:
            for schema, error in report.failed.items():
                self.stderr.write(f"  {schema}: {error}")
            raise CommandError(f"{len(report.failed)} schema(s) failed to migrate")
        if lost:
            raise CommandError(f"{len(lost)} agency schema(s) missing")
