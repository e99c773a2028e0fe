"""Printable Forms 02, 03, 05, 06 of a dossier: staff of the agency only."""

from __future__ import annotations

import pytest
from django.test import Client

from desk import services
from tenants.context import agency_context
from tests.fixtures.mfa import mfa_login

HOST = "xa-an-binh.localhost"


def client_for(user) -> Client:
    client = Client(HTTP_HOST=HOST)
    mfa_login(client, user)
    return client


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_staff_print_the_forms_of_a_dossier(commune, staff, submit_shop, citizen) -> None:
    with agency_context(commune):
        d = submit_shop()
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.supplement_request(
            dossier=d, actor=staff.receptionist, items=["Bản sao CCCD", "Hợp đồng thuê nhà"]
        )
        stopped = submit_shop()
        services.dossier_stop(dossier=stopped, actor=staff.leader, reason="Người nộp đã mất")
        refused = submit_shop()
        services.dossier_claim(dossier=refused, actor=staff.receptionist)
        services.dossier_refuse(
            dossier=refused, actor=staff.receptionist, reasons=["Không thuộc thẩm quyền"]
        )
    desk = client_for(staff.viewer)
    page = desk.get(f"/mot-cua/ho-so/{d.code}/")
    assert f"/mot-cua/in/{d.code}/02/" in page.text and f"/mot-cua/in/{d.code}/06/" in page.text

    form02 = desk.get(f"/mot-cua/in/{d.code}/02/")
    assert form02.status_code == 200
    assert "Form 02" in form02.text and "Hợp đồng thuê nhà" in form02.text and d.code in form02.text
    assert 'class="printable"' in form02.text
    form06 = desk.get(f"/mot-cua/in/{d.code}/06/")
    assert "Form 06" in form06.text and "Supplement requested" in form06.text
    form05 = desk.get(f"/mot-cua/in/{stopped.code}/05/")
    assert "Form 05" in form05.text and "Người nộp đã mất" in form05.text
    form03 = desk.get(f"/mot-cua/in/{refused.code}/03/")
    assert "Form 03" in form03.text and "Không thuộc thẩm quyền" in form03.text
    assert desk.get(f"/mot-cua/in/{d.code}/01/")["Location"].endswith(f"/ho-so/{d.code}/bien-nhan/")

    # A form the dossier does not have, an unknown form, an unknown dossier: not found.
    assert desk.get(f"/mot-cua/in/{d.code}/05/").status_code == 404
    assert desk.get(f"/mot-cua/in/{d.code}/99/").status_code == 404
    assert desk.get("/mot-cua/in/KHONG-CO/02/").status_code == 404
    # Citizens (even the applicant) and strangers do not print staff forms.
    assert client_for(citizen).get(f"/mot-cua/in/{d.code}/02/").status_code == 403
    assert Client(HTTP_HOST=HOST).get(f"/mot-cua/in/{d.code}/02/").status_code == 302


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_a_refusal_at_reception_prints_without_a_dossier(commune, staff) -> None:
    from lifecycle.submit import Applicant
    from procedures.models import AgencyProcedure

    with agency_context(commune):
        refusal = services.desk_refuse(
            agency=commune,
            actor=staff.receptionist,
            procedure=AgencyProcedure.objects.get(code="S-KD-001"),
            applicant=Applicant(name="Trần Thị B"),
            reasons=["Thiếu giấy tờ tùy thân"],
        )
    page = client_for(staff.receptionist).get(f"/mot-cua/in/tu-choi/{refusal.pk}/")
    assert page.status_code == 200
    assert "Trần Thị B" in page.text and "Thiếu giấy tờ tùy thân" in page.text


@pytest.mark.django_db
def test_another_agencys_staff_cannot_print(commune, make_agency, submit_shop) -> None:
    from desk.tests.conftest import staff_of

    other = make_agency("xa-binh-an", name="Xã Bình An", code="BA")
    with agency_context(other):
        outsider = staff_of(other, "ba")
    with agency_context(commune):
        d = submit_shop()
    client = client_for(outsider.leader)
    assert client.get(f"/mot-cua/in/{d.code}/06/").status_code == 403
    assert client.get("/mot-cua/so-theo-doi/").status_code == 403
    assert client.get("/mot-cua/so-theo-doi/xuat-excel/").status_code == 403


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_the_apology_prints_as_form_04(commune, staff, submit_shop) -> None:
    import datetime as dt

    from django.utils import timezone

    from dossiers.models import Apology

    with agency_context(commune):
        d = submit_shop()
        Apology.objects.create(
            dossier=d,
            reason="Chờ kết quả xác minh của cơ quan khác",
            old_due_date=d.due_date,
            new_due_date=d.due_date + dt.timedelta(days=7),
            prepared_at=timezone.now(),
        )
    desk = client_for(staff.viewer)
    assert f"/mot-cua/in/{d.code}/04/" in desk.get(f"/mot-cua/ho-so/{d.code}/").text
    form04 = desk.get(f"/mot-cua/in/{d.code}/04/")
    assert form04.status_code == 200 and "Form 04" in form04.text
    assert "Chờ kết quả xác minh" in form04.text and "not signed yet" in form04.text
    other = submit_shop
    with agency_context(commune):
        without = other()
    assert desk.get(f"/mot-cua/in/{without.code}/04/").status_code == 404
