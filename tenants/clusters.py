"""The PostgreSQL clusters agencies live on: registry, placement, routing of the control plane.

Every agency lives on one named cluster (``Agency.cluster``). The *main* cluster
(``DATABASE_CLUSTER_NAME``, ``main`` by default) is the ``default`` database of a
single-server install and also holds the control plane: the public schema's agencies,
domains, users, catalog, billing and rollups. Other clusters are listed in
``DATABASE_CLUSTERS`` (``name=URL`` pairs, one DSN each; ``DATABASE_OWNER_CLUSTERS`` for the
owner role); each holds agency schemas plus a public schema of its own whose only live
contents are the cluster's own machinery (``SchemaState`` of its schemas, the template, the
clone and guard functions, grants). With no other cluster configured, nothing in this module
changes what a query does.

How a query finds its cluster (``tenants.cluster_backend``): the ``default`` connection of
each thread follows the active agency (``connection.set_tenant(agency)`` points it at
``agency.cluster``), so transactions, raw SQL and django-tenants' own code run on the
agency's cluster. ``ClusterRouter`` sends the control plane's models to the ``control`` alias
(the main cluster, public schema) while ``default`` is elsewhere, except those that belong to
each cluster (``CLUSTER_LOCAL_MODELS``) and every model inside ``on_cluster()`` (migrations and
DDL of one cluster). Hostname routing caches the whole agency row, its cluster included, so a
warm request still costs no query.

Placement (``cluster_for_new_agency``): the provider may pin a province to a cluster
(``ClusterPlacement``: a province wanting its data in its own data centre); otherwise the
policy ``DATABASE_CLUSTER_PLACEMENT`` places new agencies: ``fewest_agencies`` (default) picks
the open cluster holding the fewest agencies, ``main`` keeps them all on the main cluster.
``DATABASE_CLUSTERS_CLOSED`` lists clusters that take no new agency.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils.translation import gettext as _

from tenants.db import connection

CONTROL_ALIAS = "control"
PLACEMENT_POLICIES = ("fewest_agencies", "main")
# Control-plane app models that live on every cluster, about that cluster's own schemas.
CLUSTER_LOCAL_MODELS = {("tenants", "schemastate")}

_lock = threading.Lock()
_registered: dict[str, dict[str, Any]] = {}


class UnknownCluster(ValidationError):
    pass


def main_name() -> str:
    return str(getattr(settings, "DATABASE_CLUSTER_NAME", "main") or "main")


def register(name: str, settings_dict: dict[str, Any]) -> None:
    """Make cluster ``name`` known to this process (settings at start-up; the tests' fixture).

    The first other cluster also creates the ``control`` alias: the main cluster's database,
    for the control plane's models while ``default`` serves an agency elsewhere.
    """
    if name == main_name():
        raise ValueError(f"{name!r} is the main cluster (DATABASE_CLUSTER_NAME)")
    configured = connections.configure_settings({"default": dict(settings_dict)})["default"]
    with _lock:
        _registered[name] = configured
        if CONTROL_ALIAS not in connections.settings:
            # The same database as default: a test mirror of it (a test flushes it once).
            control = dict(connections.settings["default"])
            control["TEST"] = dict(control.get("TEST") or {}, MIRROR="default")
            connections.settings[CONTROL_ALIAS] = control


def unregister(name: str, *, keep_control: bool = False) -> None:
    """Forget a cluster (the tests' fixture, after stopping its server); ``keep_control``
    leaves the ``control`` alias defined (a test run's database set stays the same)."""
    with _lock:
        _registered.pop(name, None)
        if not _registered and not keep_control and CONTROL_ALIAS in connections.settings:
            connections[CONTROL_ALIAS].close()
            del connections.settings[CONTROL_ALIAS]


def register_from_settings() -> None:
    for name, settings_dict in getattr(settings, "DATABASE_CLUSTERS", {}).items():
        if name not in _registered:
            register(name, settings_dict)


def child_environment() -> dict[str, str]:
    """Environment for a child process that must see the same clusters and main database."""
    import json

    return {
        "MOTCUA_DATABASE_CLUSTERS_JSON": json.dumps(
            {
                name: {key: value for key, value in cfg.items() if key != "SCHEMA"}
                for name, cfg in _registered.items()
            }
        ),
        "DATABASE_NAME": str(connections.settings["default"]["NAME"]),
    }


def available(name: str) -> str:
    """ "" if cluster ``name`` answers, else why not (a down cluster is reported, not fatal)."""
    from django.db import DatabaseError

    try:
        with on_cluster(name), connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
    return ""


def names() -> list[str]:
    """Every cluster, the main one first."""
    return [main_name(), *sorted(_registered)]


def is_multi() -> bool:
    return bool(_registered)


def cluster_settings(name: str) -> dict[str, Any]:
    if name == main_name():
        return dict(connections.settings["default"])
    try:
        return _registered[name]
    except KeyError:
        raise UnknownCluster(
            _("There is no database cluster “%(name)s”."), code="unknown", params={"name": name}
        ) from None


def validate_cluster(name: str) -> None:
    if name != main_name() and name not in _registered:
        cluster_settings(name)  # raises UnknownCluster


def current() -> str:
    """The cluster the ``default`` connection of this thread is on."""
    return str(getattr(connections["default"], "cluster_name", main_name()))


# -- Routing of models --------------------------------------------------------------------


class ClusterRouter:
    """Control-plane models go to the main cluster while ``default`` serves another one.

    Returns None (no opinion: ``default``) whenever ``default`` is on the main cluster, for
    agency-schema models, for the per-cluster models and inside ``on_cluster()``: so with a
    single cluster it never routes anything.
    """

    def _route(self, model: type[Any]) -> str | None:
        if not _registered:
            return None
        default = connections["default"]
        if getattr(default, "cluster", None) is None or getattr(default, "cluster_only", False):
            return None
        meta = model._meta
        if meta.app_label in _tenant_labels() or (meta.app_label, meta.model_name) in (
            CLUSTER_LOCAL_MODELS
        ):
            return None
        return CONTROL_ALIAS

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        return self._route(model)

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return self._route(model)

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # An agency's rows point at control-plane rows (db_constraint=False): allowed.
        return True if _registered else None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # The control alias is the main cluster's default database: migrated as that.
        return False if db == CONTROL_ALIAS else None


_labels: set[str] | None = None


def _tenant_labels() -> set[str]:
    global _labels
    if _labels is None:
        from tenants.schemas import tenant_app_labels

        _labels = tenant_app_labels()
    return _labels


# -- Working on one cluster ---------------------------------------------------------------


@contextmanager
def on_cluster(name: str) -> Iterator[None]:
    """Run the block on cluster ``name``, every model included (its migrations, its schemas).

    For maintenance only (migrations, the template, provisioning a schema): the control
    plane's tables of that cluster's public schema are not the control plane. Restores the
    cluster, schema and mode in force before.
    """
    validate_cluster(name)
    default = connection
    if not hasattr(default, "use_cluster"):  # another backend: one cluster only
        yield
        return
    previous_tenant = default.tenant
    previous_cluster = default.cluster
    previous_only = default.cluster_only
    default.use_cluster(name, cluster_only=True)
    default.set_schema_to_public()
    try:
        yield
    finally:
        default.use_cluster(previous_cluster, cluster_only=previous_only)
        default.set_tenant(previous_tenant)
        default.cluster_only = previous_only and default.cluster is not None


@contextmanager
def control_plane() -> Iterator[None]:
    """Inside ``on_cluster()``: the control plane's models to the main cluster again."""
    default = connection
    previous = getattr(default, "cluster_only", False)
    default.cluster_only = False
    try:
        yield
    finally:
        default.cluster_only = previous


def home() -> None:
    """Put this thread's ``default`` connection back on the main cluster, public schema."""
    default = connection
    if getattr(default, "cluster", None) is not None:
        default.use_cluster(None)
    default.set_schema_to_public()


# -- Placement ------------------------------------------------------------------------------


def cluster_for_new_agency(*, province_code: str) -> str:
    """Where a new agency of ``province_code`` goes: its province's cluster, else the policy."""
    from tenants.models import Agency, ClusterPlacement

    pinned = (
        ClusterPlacement.objects.filter(province_code=str(province_code))
        .values_list("cluster", flat=True)
        .first()
    )
    if pinned:
        validate_cluster(pinned)
        return str(pinned)
    if not _registered:
        return main_name()
    policy = str(getattr(settings, "DATABASE_CLUSTER_PLACEMENT", "fewest_agencies"))
    if policy == "main":
        return main_name()
    closed = set(getattr(settings, "DATABASE_CLUSTERS_CLOSED", []))
    open_clusters = [name for name in names() if name not in closed] or [main_name()]
    counts = dict(
        Agency.objects.filter(cluster__in=open_clusters)
        .values_list("cluster")
        .annotate(n=_count())
        .values_list("cluster", "n")
    )
    # Fewest agencies first; ties go to the order of names() (the main cluster first).
    return min(open_clusters, key=lambda name: (counts.get(name, 0), names().index(name)))


def _count() -> Any:
    from django.db.models import Count

    return Count("id")
