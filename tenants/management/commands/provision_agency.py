"""Create (if needed) and provision one agency: ``manage.py provision_agency <slug> ...``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants import services
from tenants.models import Agency, AgencyKind


class Command(BaseCommand):
    help = "Register an agency and create its schema (idempotent: re-run to finish or repair)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", help="display name (required for a new agency)")
        parser.add_argument("--kind", choices=AgencyKind.values, default=AgencyKind.COMMUNE)
        parser.add_argument("--province", dest="province_code", default="")
        parser.add_argument("--admin-unit-code", default="")
        parser.add_argument("--parent", help="slug of the parent agency")
        parser.add_argument(
            "--async",
            dest="run_async",
            action="store_true",
            help="queue the provisioning on the Celery worker",
        )
        parser.add_argument(
            "--no-template",
            action="store_true",
            help="build by running migrations instead of cloning",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        agency = Agency.objects.filter(slug=opts["slug"]).first()
        try:
            if agency is None:
                if not opts["name"] or not opts["province_code"]:
                    raise CommandError("A new agency needs --name and --province.")
                parent = None
                if opts["parent"]:
                    parent = Agency.objects.filter(slug=opts["parent"]).first()
                    if parent is None:
                        raise CommandError(f"Unknown parent agency “{opts['parent']}”.")
                agency = services.agency_create(
                    slug=opts["slug"],
                    name=opts["name"],
                    kind=opts["kind"],
                    province_code=opts["province_code"],
                    admin_unit_code=opts["admin_unit_code"],
                    parent=parent,
                )
            if opts["run_async"]:
                from tenants.tasks import agency_provision

                task = agency_provision.delay(agency.pk)
                self.stdout.write(f"queued provisioning of {agency.slug} as task {task.id}")
                return
            result = services.agency_provision(agency=agency, use_template=not opts["no_template"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.agency.slug}: {result.created_via} in {result.seconds:.2f}s"
                + (" (repaired a half-made schema)" if result.repaired else "")
            )
        )
