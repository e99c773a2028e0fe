"""Model fields shared by apps that point at users from an agency's schema."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


def public_user_fk(**kwargs: Any) -> Any:
    """A nullable link from a tenant table to a user. Users live in the public schema, so the
    link has no database constraint and no cascade (see audit.models)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        null=True,
        blank=True,
        **kwargs,
    )
