"""Prepare a local installation: migrate everything, build the template, seed the demo."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from accounts.models import User

DEMO_ADMIN_EMAIL = "admin@motcua.localhost"
DEMO_ADMIN_PASSWORD = "motcua-demo"  # noqa: S105 - local demo only, printed on start


class Command(BaseCommand):
    help = "Migrate public + template + agencies; with --demo, seed the demo province."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo", action="store_true")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("migrate_agencies", verbosity=1)
        if opts["demo"]:
            call_command("seed_demo")
            if settings.DEBUG and not User.objects.filter(email=DEMO_ADMIN_EMAIL).exists():
                User.objects.create_superuser(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
                from allauth.account.models import EmailAddress

                EmailAddress.objects.create(
                    user=User.objects.get(email=DEMO_ADMIN_EMAIL),
                    email=DEMO_ADMIN_EMAIL,
                    verified=True,
                    primary=True,
                )
