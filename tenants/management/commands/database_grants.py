"""Give the application role its row access on every schema (after creating or renaming it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tenants import privileges, schemas
from tenants.validators import RESERVED_SCHEMAS


class Command(BaseCommand):
    help = (
        "Grant the application role (DATABASE_URL's user) row access on the public schema, the "
        "template and every agency schema, and the same for everything the owner creates later. "
        "Runs as the owner role (DATABASE_OWNER_URL); idempotent."
    )

    def handle(self, *args: Any, **opts: Any) -> None:
        if not privileges.current_role_can_create_schemas():
            raise CommandError("database_grants runs as the owner role (DATABASE_OWNER_URL).")
        existing = [
            name
            for name in schemas.list_schemas()
            if not name.startswith("pg_")
            and name not in RESERVED_SCHEMAS - {schemas.TEMPLATE_SCHEMA}
        ]
        privileges.drop_function_install()
        role = privileges.grants_apply(schemas=existing)
        if not role:
            self.stdout.write("DATABASE_URL and DATABASE_OWNER_URL are one role: nothing to grant.")
            return
        self.stdout.write(f"{role}: row access on public and {len(existing)} schemas.")
