"""The officer's worklist and the register make as many queries for 30 dossiers as for 3."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from desk import services
from tenants.context import agency_context
from tests.fixtures.mfa import mfa_login

HOST = "xa-an-binh.localhost"


@pytest.mark.django_db
def test_worklist_and_register_queries_do_not_grow_with_dossiers(
    commune, staff, submit_shop, django_assert_max_num_queries
) -> None:
    client = Client(HTTP_HOST=HOST)
    mfa_login(client, staff.officer)

    def add(n: int) -> None:
        with agency_context(commune):
            for _ in range(n):
                d = submit_shop()
                services.dossier_claim(dossier=d, actor=staff.receptionist)
                services.dossier_forward(dossier=d, actor=staff.receptionist, to=staff.officer)

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    add(3)
    paths = ["/mot-cua/", "/mot-cua/?ds=cua-nhom", "/mot-cua/?ds=qua-han", "/mot-cua/so-theo-doi/"]
    small = {}
    for path in paths:
        client.get(path)  # caches warm, the agency's schema active
        small[path] = count(path)
    add(27)
    for path in paths:
        client.get(path)  # back on the agency's schema after the additions, as before
        with django_assert_max_num_queries(small[path], info=path):
            response = client.get(path)
        assert response.status_code == 200
    assert client.get("/mot-cua/").text.count('href="/mot-cua/ho-so/') == 30
