"""Form 02: one complete supplement request; the clock pauses and due dates move by the
working days it stood still (holidays do not count)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from desk import services
from dossiers.models import (
    Dossier,
    DossierDocument,
    DossierEvent,
    DossierProcess,
    DossierStatus,
    SupplementRequest,
)
from tenants.context import agency_context
from tests.files import exe, pdf

from .conftest import VN


def at(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, 0, tzinfo=VN)


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_a_supplement_across_the_april_holidays_moves_the_due_dates(
    commune, staff, submit_shop, citizen
) -> None:
    with agency_context(commune):
        # Received Tuesday 28/4/2026: 3 working days are Wed 29/4, then (30/4, 1/5 are
        # holidays, 2-3/5 a weekend) Mon 4/5 and Tue 5/5.
        d = submit_shop(at(2026, 4, 28, 9))
        assert d.due_date == dt.date(2026, 5, 5)
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.dossier_forward(dossier=d, actor=staff.receptionist)
        services.dossier_claim(dossier=d, actor=staff.officer)
        # The step started "now" (the test's real clock); place it on 28/4 + 2 working days.
        DossierProcess.objects.filter(dossier=d).update(step_due_date=dt.date(2026, 5, 4))

        services.supplement_request(
            dossier=d,
            actor=staff.officer,
            items=["Bản sao CCCD của chủ hộ", "", "Hợp đồng thuê địa điểm"],
            note="Bổ sung trong 10 ngày",
            at=at(2026, 4, 29),
        )
        d = Dossier.objects.get(pk=d.pk)
        assert d.status == DossierStatus.SUPPLEMENT_REQUESTED
        event = DossierEvent.objects.get(dossier=d, action="supplement_requested")
        assert event.note == "Bản sao CCCD của chủ hộ; Hợp đồng thuê địa điểm"
        # Given once: a second request and the decision are refused while paused.
        with pytest.raises(ValidationError, match="only once"):
            services.supplement_request(dossier=d, actor=staff.officer, items=["Thêm nữa"])
        with pytest.raises(ValidationError, match="not possible while"):
            services.dossier_forward(dossier=d, actor=staff.officer)
        with pytest.raises(ValidationError, match="not possible while"):
            services.dossier_approve(dossier=d, actor=staff.leader)
        # Nobody but the applicant or the desk supplements; bad files are refused whole.
        with pytest.raises(ValidationError, match="Only the applicant"):
            services.supplement_receive(dossier=d, actor=staff.officer, note="x")
        with pytest.raises(ValidationError):
            services.supplement_receive(dossier=d, actor=citizen, files={1: [exe()]})
        assert DossierDocument.objects.filter(dossier=d).count() == 2

        # The citizen supplements online on Monday 4/5: one working day (4/5) stood still.
        request = services.supplement_receive(
            dossier=d, actor=citizen, files={1: [pdf("cccd.pdf")]}, at=at(2026, 5, 4)
        )
        assert request.paused_working_days == 1 and request.supplement_channel == "online"
        d = Dossier.objects.get(pk=d.pk)
        process = DossierProcess.objects.get(dossier=d)
        assert d.status == DossierStatus.IN_PROCESSING
        assert d.due_date == dt.date(2026, 5, 6)
        assert process.step_due_date == dt.date(2026, 5, 5)
        assert process.paused_at is None and process.paused_days_total == 1
        assert process.assignee_id == staff.officer.pk
        assert DossierDocument.objects.filter(dossier=d).count() == 3


@pytest.mark.django_db
def test_the_desk_supplements_on_the_applicants_behalf(commune, staff, submit_shop) -> None:
    with agency_context(commune):
        d = submit_shop(at(2026, 11, 23, 9))  # Monday; Tuesday 24/11 is a holiday
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.supplement_request(
            dossier=d,
            actor=staff.receptionist,
            items=["Giấy đề nghị có chữ ký"],
            at=at(2026, 11, 23),
        )
        request = services.supplement_receive(
            dossier=d, actor=staff.receptionist, note="Nộp bản có chữ ký", at=at(2026, 11, 26)
        )
        # (23/11, 26/11]: 25 and 26 count, 24 is Vietnam Cultural Day.
        assert request.paused_working_days == 2 and request.supplement_channel == "desk"
        d = Dossier.objects.get(pk=d.pk)
        assert d.status == DossierStatus.RECEIVED  # back where it was paused
        assert d.due_date == dt.date(2026, 12, 1)  # 27/11 + 2 working days
        assert SupplementRequest.objects.get(dossier=d).supplemented_by_id == staff.receptionist.pk
