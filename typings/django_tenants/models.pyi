from typing import Any

from django.db import models

class TenantMixin(models.Model):
    auto_drop_schema: bool
    auto_create_schema: bool
    clone_mode: str
    schema_name = models.CharField(max_length=63, unique=True)
    domain_url: str | None
    def __enter__(self) -> TenantMixin: ...
    def __exit__(self, *args: object) -> None: ...
    def activate(self) -> None: ...
    @classmethod
    def deactivate(cls) -> None: ...
    def create_schema(
        self, check_if_exists: bool = ..., sync_schema: bool = ..., verbosity: int = ...
    ) -> bool | None: ...
    def get_primary_domain(self) -> Any: ...

class DomainMixin(models.Model):
    domain = models.CharField(max_length=253, unique=True)
    tenant: Any
    tenant_id: int
    is_primary = models.BooleanField(default=True)
