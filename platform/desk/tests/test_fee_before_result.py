"""Issue 14 item 5: where the procedure says so, the result is returned once the fee is paid."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from desk import services
from dossiers.models import Dossier, DossierStatus, ReturnMethod
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.files import pdf
from tests.fixtures.mfa import mfa_login

HOST = "xa-an-binh.localhost"


def _ready(dossier: Dossier, staff) -> Dossier:
    services.dossier_claim(dossier=dossier, actor=staff.receptionist)
    services.dossier_forward(dossier=dossier, actor=staff.receptionist, note="Đủ")
    services.dossier_claim(dossier=dossier, actor=staff.officer)
    services.result_attach(dossier=dossier, actor=staff.officer, file=pdf("kq.pdf"), number="1")
    services.dossier_forward(dossier=dossier, actor=staff.officer, to=staff.leader, note="Ký")
    services.dossier_approve(dossier=dossier, actor=staff.leader)
    services.dossier_claim(dossier=dossier, actor=staff.receptionist)
    return Dossier.objects.get(pk=dossier.pk)


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_an_unpaid_fee_blocks_the_return_where_the_procedure_requires_it(
    commune, staff, submit_shop
) -> None:
    with agency_context(commune):
        dossier = submit_shop()
        Dossier.objects.filter(pk=dossier.pk).update(fee_amount=50_000, fee_paid=False)
        AgencyProcedure.objects.filter(pk=dossier.procedure_id).update(fee_before_result=True)
        d = _ready(dossier, staff)
        with pytest.raises(ValidationError) as exc:
            services.result_return(dossier=d, actor=staff.receptionist, method=ReturnMethod.DESK)
        assert exc.value.code == "fee_unpaid"
        assert "50.000 VND is not paid yet" in exc.value.messages[0]
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.RESULT_READY
        assert not d.events.filter(action="returned").exists()

        # The desk's page says so in words, and nothing changes.
        desk = Client(HTTP_HOST=HOST)
        mfa_login(desk, staff.receptionist)
        response = desk.post(
            f"/mot-cua/ho-so/{d.code}/return/", {"method": ReturnMethod.DESK}, follow=True
        )
        assert "requires the fee to be settled before the result is returned" in (
            response.content.decode()
        )
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.RESULT_READY

        Dossier.objects.filter(pk=d.pk).update(fee_paid=True)
        services.result_return(dossier=d, actor=staff.receptionist, method=ReturnMethod.DESK)
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.RETURNED


@pytest.mark.django_db
def test_without_the_rule_an_unpaid_fee_does_not_block_the_return(commune, staff, submit_shop):
    with agency_context(commune):
        dossier = submit_shop()
        Dossier.objects.filter(pk=dossier.pk).update(fee_amount=50_000, fee_paid=False)
        d = _ready(dossier, staff)
        services.result_return(dossier=d, actor=staff.receptionist, method=ReturnMethod.DESK)
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.RETURNED
