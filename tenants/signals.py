"""Keep the hostname routing cache honest: forget a host when its agency or domain changes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tenants.models import Agency, Domain
from tenants.routing import invalidate_agency, router


@receiver([post_save, post_delete], sender=Domain, dispatch_uid="tenants.domain_changed")
def _domain_changed(sender: type[Domain], instance: Domain, **_: Any) -> None:
    host = instance.domain
    transaction.on_commit(lambda: router.invalidate([host]))


@receiver(post_save, sender=Agency, dispatch_uid="tenants.agency_changed")
def _agency_changed(sender: type[Agency], instance: Agency, created: bool, **_: Any) -> None:
    if not created:
        transaction.on_commit(lambda: invalidate_agency(instance))
