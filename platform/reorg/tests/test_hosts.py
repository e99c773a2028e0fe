"""Item 5: the hosts of merged agencies answer 301 to the same page at the agency they joined."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from reorg import services
from tenants.services import domain_add

pytestmark = pytest.mark.django_db


def test_old_hosts_redirect_permanently_and_old_receipts_still_track(world: Any) -> None:
    domain_add(agency=world.a, hostname="motcua.xaanbinh.gov.vn")
    old = world.dossiers["xa-an-binh"].in_processing
    services.merge_run(
        services.merge_create(sources=[world.a], target=world.c, effective_on=timezone.localdate())
    )
    track = f"/tra-cuu/?ma={old.code}&bi-mat={old.lookup_secret}"
    for host in ("xa-an-binh.localhost", "motcua.xaanbinh.gov.vn"):
        client = Client(HTTP_HOST=host)
        for path in ("/", track, "/thu-tuc/", "/khong-co-trang-nay/"):
            response = client.get(path)
            assert response.status_code == 301, (host, path)
            assert response["Location"] == f"http://xa-hoa-binh.localhost{path}"
    followed = Client(HTTP_HOST="xa-hoa-binh.localhost").get(track)
    assert followed.status_code == 200
    assert old.code in followed.content.decode()
    # a host with a port keeps it
    response = Client(HTTP_HOST="xa-an-binh.localhost:8000").get(track)
    assert response["Location"] == f"http://xa-hoa-binh.localhost:8000{track}"


def test_hosts_of_agencies_outside_the_merge_still_serve_their_pages(world: Any) -> None:
    services.merge_run(
        services.merge_create(sources=[world.a], target=world.c, effective_on=timezone.localdate())
    )
    d = world.dossiers["xa-ngoai"].received
    response = Client(HTTP_HOST="xa-ngoai.localhost").get(
        f"/tra-cuu/?ma={d.code}&bi-mat={d.lookup_secret}"
    )
    assert response.status_code == 200
    # the outsider's code is not found through the merged agency's new home
    response = Client(HTTP_HOST="xa-hoa-binh.localhost").get(
        f"/tra-cuu/?ma={d.code}&bi-mat={d.lookup_secret}"
    )
    assert response.status_code == 404
    assert Client(HTTP_HOST="xa-binh-minh.localhost").get("/").status_code == 200
