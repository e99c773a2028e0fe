"""A connection that has served DATABASE_MAX_SCHEMAS_PER_CONNECTION schemas is replaced."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from tenants.context import agency_context
from tenants.db import connection


def backend_after_query(agency) -> tuple[int, int]:
    with agency_context(agency), connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), count(*) FROM audit_auditentry")
        pid, count = cursor.fetchone()
    return pid, count


@pytest.mark.django_db(transaction=True)
def test_a_connection_is_replaced_after_the_bound_and_not_before(make_agency) -> None:
    agencies = [make_agency(f"xa-vong-{n}") for n in range(4)]
    connection.close()
    with override_settings(DATABASE_MAX_SCHEMAS_PER_CONNECTION=3):
        # public (where the connection opened) + 2 agencies = 3 schemas on the first backend
        first = [backend_after_query(agency)[0] for agency in agencies[:2]]
        again = backend_after_query(agencies[0])[0]  # a schema it has already: no new one
        third = backend_after_query(agencies[2])[0]
        fourth = backend_after_query(agencies[3])[0]
    assert first[0] == first[1] == again
    assert third != first[0]  # the 4th schema needed a fresh backend
    assert fourth == third


@pytest.mark.django_db(transaction=True)
def test_unbounded_by_default_and_never_inside_a_transaction(make_agency) -> None:
    agencies = [make_agency(f"xa-vong-{n}") for n in range(3)]
    connection.close()
    pids = {backend_after_query(agency)[0] for agency in agencies}
    assert len(pids) == 1  # the default: no bound, one backend for every schema
    with override_settings(DATABASE_MAX_SCHEMAS_PER_CONNECTION=1), transaction.atomic():
        inside = {backend_after_query(agency)[0] for agency in agencies}
    assert inside == pids  # a transaction is never cut: the bound waits for its end
