"""Reconciliation report of the national-portal sync (``--verify`` also asks the portal
which keys it holds; ``--requeue-failed`` gives failed rows a fresh set of attempts)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nationalsync.selectors import reconciliation
from nationalsync.services import SyncFailed, portal_acknowledged_keys, sync_requeue_failed


class Command(BaseCommand):
    help = "What the national portal should have vs what it acknowledged, per agency."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--verify", action="store_true", help="ask the portal too")
        parser.add_argument("--requeue-failed", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["requeue_failed"]:
            self.stdout.write(f"requeued {sync_requeue_failed()}")
        keys = None
        if options["verify"]:
            try:
                keys = portal_acknowledged_keys()
            except SyncFailed as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write("agency\tshould_have\tacknowledged\tpending\tfailed\tmissing")
        for row in reconciliation(portal_keys=keys):
            self.stdout.write(
                f"{row.agency.slug}\t{row.should_have}\t{row.acknowledged}\t{row.pending}\t"
                f"{row.failed}\t{len(row.missing)}"
            )
            for key in row.missing:
                self.stdout.write(f"  missing {key}")
