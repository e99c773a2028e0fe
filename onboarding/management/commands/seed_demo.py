"""Create the demo province (idempotent); locally, its people and a month of their work."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding.demo import (
    DEMO_COMMUNES,
    DEMO_PEOPLE,
    DEMO_PROVINCE,
    demo_home_agency,
    demo_people_seed,
    demo_province_seed,
)


class Command(BaseCommand):
    help = (
        "Create and provision a few departments and communes of a province for a demo; with "
        "--with-people (local installations only), one demo account per role and a month of "
        "dossiers at the first commune."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--province", default=DEMO_PROVINCE)
        parser.add_argument("--communes", type=int, default=DEMO_COMMUNES)
        parser.add_argument("--with-people", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["with_people"] and not settings.DEBUG:
            raise CommandError(
                "The demo accounts share a published password: --with-people is for local "
                "installations (DEBUG) only."
            )
        agencies = demo_province_seed(
            province_code=opts["province"], communes=opts["communes"], report=self.stdout.write
        )
        self.stdout.write(self.style.SUCCESS(f"demo province ready: {len(agencies)} agencies"))
        if not opts["with_people"]:
            return
        home = demo_home_agency(province_code=opts["province"])
        if home is None:
            raise CommandError("The demo province has no commune to put its people in.")
        from onboarding.demo_activity import demo_activity_seed

        users = demo_people_seed(agency=home)
        people = {person.key: user for person, user in zip(DEMO_PEOPLE, users, strict=True)}
        demo_activity_seed(agency=home, people=people, report=self.stdout.write)
