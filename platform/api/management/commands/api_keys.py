"""Manage an agency's API keys from the shell.

manage.py api_keys issue --agency xa-an-binh --name "Cổng DVCQG" --scope inbound
manage.py api_keys list --agency xa-an-binh
manage.py api_keys revoke --agency xa-an-binh --prefix 1a2b3c4d5e6f
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.models import ApiKey, Scope
from api.services import api_key_issue, api_key_revoke
from tenants.context import agency_context
from tenants.models import Agency


class Command(BaseCommand):
    help = "Issue, list or revoke an agency's API keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["issue", "list", "revoke"])
        parser.add_argument("--agency", required=True, help="the agency's slug")
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--scope", action="append", default=[], choices=Scope.values, dest="scopes"
        )
        parser.add_argument("--rate-limit", type=int, default=600, help="per minute; 0: none")
        parser.add_argument("--prefix", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with the slug {options['agency']!r}")
        with agency_context(agency):
            if options["action"] == "issue":
                try:
                    issued = api_key_issue(
                        name=options["name"],
                        scopes=options["scopes"],
                        rate_limit_per_minute=options["rate_limit"],
                    )
                except ValidationError as exc:
                    raise CommandError("; ".join(exc.messages)) from None
                self.stdout.write(issued.secret)
            elif options["action"] == "list":
                for key in ApiKey.objects.all():
                    state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
                    used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
                    self.stdout.write(
                        f"{key.prefix}\t{key.name}\t{','.join(key.scopes)}\t{state}\t"
                        f"last used {used}"
                    )
            else:
                found = ApiKey.objects.filter(prefix=options["prefix"]).first()
                if found is None:
                    raise CommandError(f"no key with the prefix {options['prefix']!r}")
                api_key_revoke(api_key=found)
                self.stdout.write(f"revoked {found.prefix}")
