"""Print where the running product can be reached."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from ops.management.commands.setup_local import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
from tenants.models import AgencyStatus, Domain


class Command(BaseCommand):
    help = "List the public site, the console and every live agency's portal URL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **opts: Any) -> None:
        port = opts["port"]
        suffix = "" if port in (80, 443) else f":{port}"
        public = settings.PLATFORM_PUBLIC_HOSTS[0]
        w = self.stdout.write
        w("")
        w(self.style.SUCCESS("MotCua Cloud is starting:"))
        w(f"  landing page      http://{public}{suffix}/")
        w(f"  provider console  http://{public}{suffix}/console/agencies/")
        if settings.DEBUG:
            login = f"{DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}"
            w(f"                    (demo provider staff: {login})")
        w(f"  health            http://{public}{suffix}/health/")
        w("  agency portals:")
        domains = (
            Domain.objects.select_related("tenant")
            .filter(is_primary=True, tenant__status=AgencyStatus.ACTIVE)
            .order_by("tenant__kind", "tenant__name")
        )
        for d in domains:
            w(f"    {d.tenant.name:<40} http://{d.domain}{suffix}/")
        w("")
