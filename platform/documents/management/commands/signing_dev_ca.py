"""A local certificate authority and signing keys for development and the demo:
``manage.py signing_dev_ca [slug ...] [--rotate]``.

Writes under SIGNING_KEY_ROOT (never the database or the repository): the CA and its
timestamp unit, each agency's organisation certificate, and one personal certificate per
active leader of that agency. Existing files are kept unless ``--rotate`` is given; a rotated
file moves to the agency's ``retired/`` folder, so what it signed stays verifiable.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Membership, Role
from documents import keys
from tenants.models import Agency, AgencyStatus


class Command(BaseCommand):
    help = "Create a development CA and per-agency / per-leader PKCS#12 signing files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="agencies (default: every active one)")
        parser.add_argument("--rotate", action="store_true", help="issue new certificates")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not str(getattr(settings, "SIGNING_P12_PASSWORD", "") or ""):
            raise CommandError("Set SIGNING_P12_PASSWORD first: the key files are encrypted.")
        agencies = Agency.objects.exclude(schema_name="public").order_by("slug")
        if opts["slugs"]:
            agencies = agencies.filter(slug__in=opts["slugs"])
            missing = set(opts["slugs"]) - set(agencies.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"Unknown agency: {', '.join(sorted(missing))}.")
        else:
            agencies = agencies.filter(status=AgencyStatus.ACTIVE)
        authority = keys.dev_ca_ensure()
        self.stdout.write(f"CA: {keys.ca_dir() / 'ca.pem'}")
        rotate = bool(opts["rotate"])
        for agency in agencies:
            made = keys.dev_issue_organisation(
                authority, agency.schema_name, agency.name, rotate=rotate
            )
            self.stdout.write(
                f"{agency.slug}: organisation {'issued ' + made.serial if made else 'kept'}"
            )
            leaders = Membership.objects.filter(
                agency=agency, is_active=True, roles__contains=[Role.LEADER]
            ).select_related("user")
            for member in leaders:
                user = member.user
                person = keys.dev_issue_person(
                    authority,
                    agency.schema_name,
                    user.pk,
                    name=str(getattr(user, "full_name", "") or user.email),
                    organisation=agency.name,
                    email=user.email,
                    rotate=rotate,
                )
                self.stdout.write(
                    f"  leader {user.email}: {'issued ' + person.serial if person else 'kept'}"
                )
