"""The receptionist's intake page: the same checks as online, a receipt, staff only."""

from __future__ import annotations

import pytest
from django.test import Client

from dossiers.models import Dossier
from tenants.context import agency_context
from tests.files import pdf
from tests.fixtures.mfa import mfa_login

from .conftest import SHOP_FORM

HOST = "xa-an-binh.localhost"


def client_for(user) -> Client:
    client = Client(HTTP_HOST=HOST)
    mfa_login(client, user)
    return client


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_the_receptionist_receives_a_dossier_at_the_desk(commune, staff, citizen) -> None:
    desk = client_for(staff.receptionist)
    start = desk.get("/mot-cua/tiep-nhan/")
    assert start.status_code == 200 and "S-KD-001" in start.text
    assert desk.get("/mot-cua/tiep-nhan/", {"thu-tuc": "S-KD-001"})["Location"].endswith(
        "/mot-cua/tiep-nhan/S-KD-001/"
    )
    form = {f"f_{k}": v for k, v in SHOP_FORM.items()}
    incomplete = desk.post("/mot-cua/tiep-nhan/S-KD-001/", {**form, "applicant_name": ""})
    assert incomplete.status_code == 400
    with agency_context(commune):
        assert not Dossier.objects.exists()
    done = desk.post(
        "/mot-cua/tiep-nhan/S-KD-001/",
        {
            **form,
            "applicant_name": "Nguyễn Văn A",
            "applicant_email": citizen.email.upper(),
            "component_0": pdf(),
            "component_1": pdf(),
        },
    )
    assert done.status_code == 302 and done["Location"].endswith("/bien-nhan/")
    with agency_context(commune):
        dossier = Dossier.objects.get()
    assert (dossier.channel, dossier.applicant_id, dossier.received_by_id) == (
        "desk",
        citizen.pk,
        staff.receptionist.pk,
    )
    assert client_for(staff.officer).get("/mot-cua/tiep-nhan/").status_code == 403
    assert client_for(citizen).get("/mot-cua/tiep-nhan/S-KD-001/").status_code == 403
    assert desk.get("/mot-cua/tiep-nhan/KHONG-CO/").status_code == 404
