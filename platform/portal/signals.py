"""Cache upkeep: a dossier's cached public lookup pages go when it or its history changes."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from tenants.db import connection


def dossier_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from portal.tracking_cache import tracking_pages_forget

    dossier = getattr(instance, "dossier", instance)
    code, secret, schema = dossier.code, dossier.lookup_secret, connection.schema_name
    transaction.on_commit(lambda: tracking_pages_forget(code=code, secret=secret, schema=schema))
