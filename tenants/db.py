"""The database connection, typed as what django-tenants makes of it.

django-tenants' backend adds schema switching to Django's connection; this
module gives our code one typed handle on it instead of scattered ignores.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from django.db import connection as _connection


class TenantConnection(Protocol):
    schema_name: str
    tenant: Any
    include_public_schema: bool
    cluster: str | None  # None: the main cluster (tenants.cluster_backend)
    cluster_name: str
    cluster_only: bool

    def set_tenant(self, tenant: Any, include_public: bool = True) -> None: ...
    def set_schema(
        self, schema_name: str, include_public: bool = True, tenant_type: str | None = None
    ) -> None: ...
    def set_schema_to_public(self) -> None: ...
    def use_cluster(self, name: str | None, *, cluster_only: bool = False) -> None: ...
    def parked_clusters(self) -> list[str]: ...
    def cursor(self) -> Any: ...


connection = cast(TenantConnection, _connection)
