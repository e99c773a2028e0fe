"""API keys an agency's administrator issues to other systems. Tenant schema: a key
exists only in its agency's schema, so it cannot authenticate on another agency's host."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    PROCEDURES_READ = "procedures:read", _("Read published procedures")
    DOSSIERS_READ = "dossiers:read", _("Read dossier status and history")
    DOSSIERS_WRITE = "dossiers:write", _("Submit dossiers")
    INBOUND = "inbound", _("Deliver dossiers received elsewhere (national portal)")


class ApiKey(models.Model):
    """A key is ``mc_<prefix>_<secret>``: the prefix finds the row, the secret is only
    kept as a SHA-256 digest (it is 256 random bits, so a fast digest is enough)."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = ArrayField(models.CharField(max_length=30, choices=Scope.choices), default=list)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("requests per minute"), default=600, help_text=_("0 means no limit.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)  # a user (public schema)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
