"""Give a person roles in an agency: ``manage.py grant_role <email> <agency slug> admin [...]``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Role, User
from accounts.services import membership_grant
from tenants.models import Agency


class Command(BaseCommand):
    help = "Grant a user roles in an agency (replacing the roles they had there)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the user's e-mail address")
        parser.add_argument("agency", help="the agency's slug, e.g. xa-an-binh")
        parser.add_argument(
            "roles", nargs="+", choices=Role.values, help="one or more roles", metavar="role"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = str(options["email"]).strip().lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with the e-mail address {email}.")
        agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"No agency with the slug {options['agency']}.")
        try:
            membership = membership_grant(user=user, agency=agency, roles=options["roles"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"{user.email} now has the role(s) {', '.join(membership.roles)} in {agency.slug}."
        )
