"""Agency A's staff cannot see or act on agency B's dossiers."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from desk import selectors, services
from dossiers.models import DossierProcess
from procedures.services import procedures_adopt_for_kind
from tenants.context import agency_context

from .conftest import staff_of


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_an_officer_of_a_cannot_act_on_bs_dossier(commune, make_agency, submit_shop) -> None:
    other = make_agency("xa-binh-an", name="Xã Bình An", code="BA")
    with agency_context(other):
        procedures_adopt_for_kind(agency=other, publish=True)
        b_staff = staff_of(other, "ba")
        b_dossier = submit_shop(agency=other)
    with agency_context(commune):
        a_staff = staff_of(commune, "ab")
        a_dossier = submit_shop()
        assert a_dossier.pk == b_dossier.pk  # ids repeat across schemas; codes do not
        # In A's schema, B's dossier object does not resolve to A's dossier with that id.
        with pytest.raises(ValidationError, match="does not exist in this agency"):
            services.dossier_claim(dossier=b_dossier, actor=a_staff.receptionist)
        assert selectors.worklist_team(b_staff.receptionist).count() == 0
    with agency_context(other):
        # In B's schema, A's receptionist has no role at all.
        with pytest.raises(ValidationError) as exc:
            services.dossier_claim(dossier=b_dossier, actor=a_staff.receptionist)
        assert exc.value.code == "role"
        with pytest.raises(ValidationError):
            services.dossier_stop(dossier=b_dossier, actor=a_staff.leader, reason="x")
        assert selectors.worklist_team(a_staff.receptionist).count() == 0
        assert selectors.worklist_overdue(a_staff.leader).count() == 0
        assert DossierProcess.objects.get(dossier=b_dossier).assignee_id is None
        services.dossier_claim(dossier=b_dossier, actor=b_staff.receptionist)
        assert list(selectors.worklist_mine(b_staff.receptionist)) == [
            DossierProcess.objects.get(dossier=b_dossier)
        ]
