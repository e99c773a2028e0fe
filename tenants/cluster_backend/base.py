"""django-tenants' PostgreSQL backend whose ``default`` connection follows the agency's cluster.

Agencies live on several PostgreSQL clusters (``tenants.clusters``). Rather than give every
query a ``using=`` (and lose ``transaction.atomic()``, raw cursors and django-tenants' own
code, which all speak to ``default``), the ``default`` connection of each thread *is* the
active agency's cluster: ``set_tenant(agency)`` points it at ``agency.cluster`` before the
``search_path`` is set, so the agency's queries, transactions and DDL run there. The
control plane's models (agencies, users, billing, ...) are sent to the ``control`` alias by
``tenants.clusters.ClusterRouter`` while ``default`` is away from the main cluster.

One physical connection per cluster is kept ("parked") while another is in use, so a thread
that serves agencies of several clusters does not reconnect at every switch. A switch inside
a transaction is refused: a transaction cannot move between servers.

With one cluster (every single-server install) nothing here ever switches: ``cluster`` stays
the main cluster's name and this is django-tenants' backend as it was.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper
from django_tenants.postgresql_backend.base import FakeTenant

__all__ = ["ClusterSwitchInTransaction", "DatabaseWrapper", "FakeTenant"]

# What belongs to one physical connection, saved while it is parked and put back when its
# cluster is used again (Django's own per-connection state and django-tenants' search_path).
_PER_CONNECTION = (
    "connection",
    "autocommit",
    "close_at",
    "closed_in_transaction",
    "errors_occurred",
    "health_check_done",
    "search_path_set_schemas",
    "schemas_touched",
)
_FRESH: dict[str, Any] = {
    "connection": None,
    "autocommit": False,
    "close_at": None,
    "closed_in_transaction": False,
    "errors_occurred": False,
    "health_check_done": False,
    "search_path_set_schemas": None,
    "schemas_touched": frozenset(),
}


class ClusterSwitchInTransaction(RuntimeError):
    """An agency of another cluster was activated inside an open transaction."""


class DatabaseWrapper(TenantDatabaseWrapper):  # type: ignore[misc]
    def __init__(self, settings_dict: dict[str, Any], alias: str = "default") -> None:
        # Before super(): django-tenants' __init__ already calls set_tenant (public schema).
        self.cluster: str | None = None  # None: this connection's own settings (the main one)
        self.cluster_only = False  # True: every model on this cluster (maintenance, migrations)
        self._parked: dict[str | None, dict[str, Any]] = {}
        self._home_settings = settings_dict
        # Agency schemas this physical connection has been pointed at: each one costs the
        # server backend its catalog cache entries (≈ 164 kB), kept for the connection's life.
        self.schemas_touched: frozenset[str] = frozenset()
        super().__init__(settings_dict, alias)

    # -- the cluster ------------------------------------------------------------------------

    @property
    def cluster_name(self) -> str:
        from tenants import clusters

        return self.cluster or clusters.main_name()

    def use_cluster(self, name: str | None, *, cluster_only: bool = False) -> None:
        """Point this connection at cluster ``name`` (None or the main one's name: home).

        ``cluster_only`` sends every model there, the control plane's too (migrations and
        schema DDL of that cluster); otherwise the router keeps the control plane on the
        main cluster.
        """
        from tenants import clusters

        if name == clusters.main_name():
            name = None
        if name == self.cluster:
            self.cluster_only = cluster_only and name is not None
            return
        if self.in_atomic_block:
            raise ClusterSwitchInTransaction(
                f"cannot move a transaction from cluster {self.cluster_name!r} to "
                f"{name or clusters.main_name()!r}: activate the agency outside it"
            )
        target = self._home_settings if name is None else clusters.cluster_settings(name)
        self._parked[self.cluster] = {attr: getattr(self, attr) for attr in _PER_CONNECTION}
        state = self._parked.pop(name, _FRESH)
        for attr, value in state.items():
            setattr(self, attr, value)
        current: dict[str, Any] = self.__dict__["settings_dict"]
        schema = current.get("SCHEMA")
        # Each connection its own copy: django-tenants writes the schema into settings_dict.
        self.settings_dict = target if name is None else dict(target)
        if schema is not None:
            self.settings_dict["SCHEMA"] = schema
        self.cluster = name
        self.cluster_only = cluster_only and name is not None

    def set_tenant(self, tenant: Any, include_public: bool = True) -> None:
        # An agency names its cluster; a schema set by name (FakeTenant: public, the template)
        # stays on the cluster in use, and remembers it, so restoring it later comes back here.
        cluster = getattr(tenant, "cluster", None)
        if cluster is None and isinstance(tenant, FakeTenant):
            tenant.cluster = self.cluster_name
        elif cluster is not None and hasattr(self, "_parked"):
            self.use_cluster(cluster, cluster_only=self.cluster_only and cluster == self.cluster)
        if hasattr(self, "schemas_touched"):
            self._recycle_if_spread(str(tenant.schema_name))
        super().set_tenant(tenant, include_public)

    def _recycle_if_spread(self, schema: str) -> None:
        """Bound the schemas one server backend caches: ``DATABASE_MAX_SCHEMAS_PER_CONNECTION``.

        Past the bound the connection is closed before the next schema is used (outside a
        transaction only) and the next query opens a fresh one: the old backend's catalog
        cache goes with it. 0 (the default): unbounded, as before.
        """
        from django.conf import settings

        if schema in self.schemas_touched:
            return
        bound = int(getattr(settings, "DATABASE_MAX_SCHEMAS_PER_CONNECTION", 0) or 0)
        if (
            bound
            and self.connection is not None
            and len(self.schemas_touched) >= bound
            and not self.in_atomic_block
        ):
            TenantDatabaseWrapper.close(self)  # this connection only; the parked ones stay
            self.schemas_touched = frozenset()
        self.schemas_touched = self.schemas_touched | {schema}

    # -- parked connections -------------------------------------------------------------------

    def close(self) -> None:
        super().close()
        self.schemas_touched = frozenset()
        for state in list(self._parked.values()):
            raw = state.get("connection")
            if raw is not None:
                with contextlib.suppress(Exception):  # already gone: nothing to close
                    raw.close()
        self._parked.clear()

    def close_if_unusable_or_obsolete(self) -> None:
        super().close_if_unusable_or_obsolete()
        now = time.monotonic()
        for name, state in list(self._parked.items()):
            raw = state.get("connection")
            if raw is None:
                continue
            state["health_check_done"] = False
            expired = state["close_at"] is not None and now >= state["close_at"]
            if state["errors_occurred"] or expired:
                with contextlib.suppress(Exception):  # already gone
                    raw.close()
                del self._parked[name]

    def parked_clusters(self) -> list[str]:
        """Clusters this thread holds an idle connection to (tests, metrics)."""
        from tenants import clusters

        return sorted(
            name or clusters.main_name()
            for name, state in self._parked.items()
            if state.get("connection") is not None
        )
