"""Restore ONE agency's schema from a point-in-time copy of the cluster (tenants/restore.py).

    python manage.py agency_restore <slug> --source "host=… port=… dbname=motcua user=…" \
        [--pg-bin /usr/lib/postgresql/15/bin] [--target "2026-12-02 10:15:00+07"] --reason "…"

The source is the scratch instance that pgBackRest restored to the target time. The live
schema is kept, renamed, out of the application's reach; one transaction, as the owner role.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.models import Agency
from tenants.restore import RestoreRefused, agency_restore_from


class Command(BaseCommand):
    help = "Replace one agency's schema by its copy in a point-in-time restored instance."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--source", required=True, help="libpq connection string")
        parser.add_argument("--pg-bin", default="", help="folder of pg_dump and psql")
        parser.add_argument("--target", default="", help="the point in time (recorded)")
        parser.add_argument("--reason", default="")
        parser.add_argument("--actor", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(slug=options["slug"]).first()
        if agency is None:
            raise CommandError(f"no agency {options['slug']!r}")
        try:
            report = agency_restore_from(
                agency=agency,
                source=options["source"],
                pg_bin=options["pg_bin"],
                target=options["target"],
                reason=options["reason"],
                actor_email=options["actor"],
            )
        except RestoreRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{report.schema}: {report.tables} tables, {report.rows} rows restored "
            f"(dump {report.dump_seconds:.1f} s, load {report.load_seconds:.1f} s); "
            f"the replaced schema is kept as {report.replaced_by}"
        )
