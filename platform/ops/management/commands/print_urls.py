"""Print where the running product can be reached, and (locally) who to sign in as."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.urls import reverse

from onboarding.demo import DEMO_PASSWORD, DEMO_PEOPLE, demo_home_agency
from tenants.models import AgencyStatus, Domain

# Where each demo account starts its first hour, on the home agency's host ("" = public host).
FIRST_PAGES = {
    "provider": ("", "/console/", "provider staff"),
    "agency_admin": ("agency", "/quan-tri/", "agency admin"),
    "officer": ("agency", "/mot-cua/", "officer (desk)"),
    "leader": ("agency", "/mot-cua/", "leader"),
    "citizen": ("agency", "/ho-so-cua-toi/", "citizen"),
}


class Command(BaseCommand):
    help = "List the public site, the console, every live agency's portal and the demo accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **opts: Any) -> None:
        port = opts["port"]
        suffix = "" if port in (80, 443) else f":{port}"
        public = f"http://{settings.PLATFORM_PUBLIC_HOSTS[0]}{suffix}"
        w = self.stdout.write
        w("")
        w(self.style.SUCCESS("MotCua Cloud is starting:"))

        def public_url(name: str) -> str:
            return public + reverse(name, urlconf=settings.PUBLIC_SCHEMA_URLCONF)

        w(f"  landing page      {public}/")
        w(f"  provider console  {public_url('console-home')}")
        w(f"  health            {public}/health/")
        if getattr(settings, "DEV_INBOX_DIR", None):
            w(f"  mail and SMS      {public_url('dev-inbox')}  (every message sent, per agency)")
        w("  agency portals:")
        domains = (
            Domain.objects.select_related("tenant")
            .filter(is_primary=True, tenant__status=AgencyStatus.ACTIVE)
            .order_by("tenant__kind", "tenant__name")
        )
        for d in domains:
            w(f"    {d.tenant.name:<40} http://{d.domain}{suffix}/")
        if settings.DEBUG:
            self._demo_accounts(public, suffix)
        w("")

    def _demo_accounts(self, public: str, suffix: str) -> None:
        home = demo_home_agency()
        domain = (
            Domain.objects.filter(tenant=home, is_primary=True).first()
            if home is not None
            else None
        )
        if domain is None:
            return
        agency_url = f"http://{domain.domain}{suffix}"
        w = self.stdout.write
        w("")
        w(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD}), at {home}:"))
        for person in DEMO_PEOPLE:
            host, path, label = FIRST_PAGES[person.key]
            where = (agency_url if host else public) + path
            w(f"  {label:<16} {person.email:<28} {where}")
        w("  Staff sign in with a second factor too; the code of the moment is printed by")
        w("      python3 dev.py totp EMAIL")
