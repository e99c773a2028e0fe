"""Running code in an agency's schema, explicitly.

A function that works across agencies says so in its name (``for_each_agency``)
and takes the agency as an argument; nothing switches schemas silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db import transaction

from tenants.db import connection
from tenants.models import Agency, AgencyStatus

T = TypeVar("T")


@contextmanager
def agency_context(agency: Agency) -> Iterator[Agency]:
    """Activate the agency's schema for the block, then restore the previous one."""
    previous = connection.tenant
    connection.set_tenant(agency)
    try:
        yield agency
    finally:
        connection.set_tenant(previous)


def on_commit_in_schema(func: Callable[[], object]) -> None:
    """Run ``func`` after the transaction commits, in the schema active *now*.

    A plain on_commit callback runs in whatever schema is active at commit time — often the
    public one, when the transaction was opened outside an agency_context — and would then touch
    the wrong agency's cache keys or files.
    """
    tenant = connection.tenant

    def run() -> None:
        previous = connection.tenant
        connection.set_tenant(tenant)
        try:
            func()
        finally:
            connection.set_tenant(previous)

    transaction.on_commit(run)


@contextmanager
def public_context() -> Iterator[None]:
    previous = connection.tenant
    connection.set_schema_to_public()
    try:
        yield
    finally:
        connection.set_tenant(previous)


def for_each_agency(
    func: Callable[[Agency], T], *, statuses: tuple[str, ...] = (AgencyStatus.ACTIVE,)
) -> dict[str, T]:
    """Call ``func(agency)`` inside each agency's schema; returns results by schema name.

    For maintenance jobs only: cross-agency *reporting* reads public rollups instead.
    """
    with public_context():
        agencies = list(Agency.objects.filter(status__in=statuses).order_by("pk"))
    results: dict[str, T] = {}
    for agency in agencies:
        with agency_context(agency):
            results[agency.schema_name] = func(agency)
    return results
