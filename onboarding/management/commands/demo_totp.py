"""Print the current second-factor code of a demo account (local installations only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding.demo import demo_totp_code


class Command(BaseCommand):
    help = "The code a demo account's authenticator app shows now (DEBUG installations only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--secret", action="store_true", help="also print the TOTP secret")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_totp works on local (DEBUG) installations only.")
        found = demo_totp_code(email=opts["email"])
        if found is None:
            raise CommandError(f"{opts['email']} has no authenticator (is it a staff account?).")
        self.stdout.write(found.code)
        self.stderr.write(
            f"valid for {found.seconds_left} more seconds; a code is accepted once: "
            "after a refusal, wait for the next one."
        )
        if opts["secret"]:
            self.stderr.write(f"secret (for an authenticator app): {found.secret}")
