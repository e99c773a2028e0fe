"""Receiving at the desk: the online rules (code, deadline, checks), channel desk, the
receptionist keeps the dossier; or a refusal (Form 03) that receives nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from billing.models import Metric, UsageEvent
from desk import services
from dossiers.models import Channel, Dossier, DossierProcess, DossierStatus, HandOver, Refusal
from lifecycle.submit import Applicant
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.files import pdf

from .conftest import SHOP_FORM, VN

WALK_IN = Applicant(name="Trần Thị Bình", id_number="031095001235", phone="0912345679")


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_a_receptionist_receives_a_dossier_in_person(commune, staff) -> None:
    with agency_context(commune):
        shop = AgencyProcedure.objects.get(code="S-KD-001")
        friday_late = dt.datetime(2026, 11, 27, 16, 30, tzinfo=VN)  # after the 16h cut-off
        result = services.desk_receive(
            agency=commune,
            actor=staff.receptionist,
            procedure=shop,
            applicant=WALK_IN,
            form_data=SHOP_FORM,
            files={0: [pdf("don.pdf")], 1: [pdf("cccd.pdf")]},
            received_at=friday_late,
        )
        d = result.dossier
        assert d.code == "AB-261127-0001" and d.channel == Channel.DESK
        assert d.received_by_id == staff.receptionist.pk and d.applicant_id is None
        assert (d.counting_start, d.due_date) == (dt.date(2026, 11, 30), dt.date(2026, 12, 3))
        process = DossierProcess.objects.get(dossier=d)
        assert (process.step_position, process.assignee_id) == (0, staff.receptionist.pk)
        received = HandOver.objects.get(dossier=d)
        assert (received.action, received.assignee_id) == ("received", staff.receptionist.pk)
        # The receptionist hands it on directly.
        services.dossier_forward(dossier=d, actor=staff.receptionist, note="Đã đối chiếu bản gốc")
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.IN_PROCESSING
    metrics = list(UsageEvent.objects.filter(agency=commune).values_list("metric", flat=True))
    assert metrics == [Metric.DOSSIER_RECEIVED]


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_only_receptionists_receive_and_bad_input_keeps_nothing(commune, staff) -> None:
    with agency_context(commune):
        shop = AgencyProcedure.objects.get(code="S-KD-001")
        kwargs = dict(agency=commune, procedure=shop, applicant=WALK_IN, form_data=SHOP_FORM)
        with pytest.raises(ValidationError, match="receptionists"):
            services.desk_receive(actor=staff.officer, files={0: [pdf()], 1: [pdf()]}, **kwargs)
        with pytest.raises(ValidationError) as exc:
            services.desk_receive(actor=staff.receptionist, files={0: [pdf()]}, **kwargs)
        assert "component_1" in exc.value.message_dict
        assert not Dossier.objects.exists() and not DossierProcess.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_a_refusal_at_the_desk_keeps_form_03_and_receives_nothing(commune, staff) -> None:
    with agency_context(commune):
        shop = AgencyProcedure.objects.get(code="S-KD-001")
        with pytest.raises(ValidationError, match="at least one reason"):
            services.desk_refuse(
                agency=commune,
                actor=staff.receptionist,
                procedure=shop,
                applicant=WALK_IN,
                reasons=[],
            )
        with pytest.raises(ValidationError, match="receptionists"):
            services.desk_refuse(
                agency=commune, actor=staff.leader, procedure=shop, applicant=WALK_IN, reasons=["x"]
            )
        refusal = services.desk_refuse(
            agency=commune,
            actor=staff.receptionist,
            procedure=shop,
            applicant=WALK_IN,
            reasons=["Ngành nghề không được kinh doanh", "Thiếu giấy đề nghị"],
        )
        stored = Refusal.objects.get()
        assert stored == refusal and stored.dossier is None and stored.channel == Channel.DESK
        assert stored.reasons == ["Ngành nghề không được kinh doanh", "Thiếu giấy đề nghị"]
        assert stored.refused_by_id == staff.receptionist.pk
        assert not Dossier.objects.exists()
