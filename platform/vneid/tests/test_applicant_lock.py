"""A VNeID identity fills and locks the applicant's details; a procedure may require level 2."""

from __future__ import annotations

import pytest
from django.test import Client

from dossiers.models import Dossier
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.files import pdf
from vneid.services import identity_record

HOST = "xa-an-binh.localhost"
SHOP = {
    "applicant_name": "Kẻ Mạo Danh",
    "applicant_id_number": "079099000001",
    "applicant_phone": "0912345678",
    "applicant_address": "Nơi khác",
    "f_business_name": "Tạp hoá Minh An",
    "f_business_address": "Thôn 2, Xã An Bình",
    "f_capital": "50000000",
    "f_trade": "Bán lẻ hàng tạp hoá",
}


def _identity(user, level: int = 2) -> None:
    identity_record(
        user=user,
        data={
            "id_token": {"sub": f"vneid-{user.pk}"},
            "userinfo": {
                "sub": f"vneid-{user.pk}",
                "name": "Nguyễn Thị Lan",
                "personal_id": "001190012345",
                "birthdate": "1990-04-12",
                "address": {"formatted": "Số 5 phố Hòa Bình, Hải Phòng"},
                "identity_level": level,
            },
        },
    )


def _submit(client: Client) -> tuple[int, str]:
    """Fill the form (with other details than the identity's), review, submit."""
    review = client.post(
        "/thu-tuc/S-KD-001/nop/",
        {**SHOP, "component_0": pdf(), "component_1": pdf(), "action": "review"},
    )
    if review.status_code != 302:
        return review.status_code, review.content.decode()
    done = client.post(review["Location"], follow=True)
    return done.status_code, done.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_identity_details_are_shown_locked_and_posted_changes_are_ignored(commune, citizen):
    _identity(citizen)
    client = Client(HTTP_HOST=HOST)
    client.force_login(citizen)
    page = client.get("/thu-tuc/S-KD-001/nop/").content.decode()
    assert 'name="applicant_name" value="Nguyễn Thị Lan"' in page
    name_input = page[
        page.index('name="applicant_name"') - 200 : page.index('name="applicant_name"') + 200
    ]
    assert "disabled" in name_input
    assert "From your VNeID identity." in page

    status, _page = _submit(client)
    assert status == 200
    with agency_context(commune):
        dossier = Dossier.objects.get()
        assert (dossier.applicant_name, dossier.applicant_id_number) == (
            "Nguyễn Thị Lan",
            "001190012345",
        )
        assert dossier.applicant_address == "Số 5 phố Hòa Bình, Hải Phòng"


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_the_service_refuses_other_details_than_the_identity(commune, citizen) -> None:
    from django.core.exceptions import ValidationError

    from lifecycle.submit import Applicant, dossier_check

    _identity(citizen)
    with agency_context(commune):
        procedure = AgencyProcedure.objects.get(code="S-KD-001")
        with pytest.raises(ValidationError) as exc:
            dossier_check(
                agency=commune,
                procedure=procedure,
                applicant=Applicant(name="Kẻ Mạo Danh", id_number="001190012345", user=citizen),
                form_data={},
            )
    errors = exc.value.message_dict
    assert "cannot be changed" in errors["applicant_name"][0]
    assert "cannot be changed" in errors["applicant_address"][0]
    assert "applicant_id_number" not in errors


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
@pytest.mark.parametrize("level", [None, 1])
def test_a_procedure_requiring_level_2_refuses_others_with_a_clear_message(
    commune, citizen, level
) -> None:
    with agency_context(commune):
        AgencyProcedure.objects.filter(code="S-KD-001").update(identity_level_required=2)
    if level is not None:
        _identity(citizen, level=level)
    client = Client(HTTP_HOST=HOST)
    client.force_login(citizen)
    status, page = _submit(client)
    assert status == 400
    assert "can only be submitted online with a level-2 VNeID identity" in page
    with agency_context(commune):
        assert not Dossier.objects.exists()


@pytest.mark.django_db
def test_a_level_2_identity_submits_a_procedure_that_requires_it(commune, citizen) -> None:
    with agency_context(commune):
        AgencyProcedure.objects.filter(code="S-KD-001").update(identity_level_required=2)
    _identity(citizen, level=2)
    client = Client(HTTP_HOST=HOST)
    client.force_login(citizen)
    status, _page = _submit(client)
    assert status == 200
    with agency_context(commune):
        assert Dossier.objects.count() == 1
