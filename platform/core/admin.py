"""A ModelAdmin that only shows: for models whose every change goes through a service.

Django's admin saves and deletes rows directly; for agencies, schema states,
trails and gateway plumbing that would bypass the services (their checks, their
transaction, the trail they write). Such models are registered with this class:
provider staff read them in the admin and change them in the console.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """View only: no add, change or delete (a POST to those pages answers 403)."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
