"""Officers see the signature check on every signed document of a dossier: valid, or the
problem in words; unsigned files and images get no badge; the check is kept per content."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from desk.tests.conftest import SHOP_FORM
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.files import png
from tests.fixtures.mfa import mfa_login
from verification.models import DocumentCheck

HOST = "xa-an-binh.localhost"
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_the_desk_shows_a_badge_per_signed_document(
    signed_pdf: Any, plain_pdf: Any, commune: Any, staff: Any, citizen: Any
) -> None:
    good = signed_pdf()
    at = good.find(b"MotCua Cloud")
    broken = good[:at] + b"N" + good[at + 1 :]
    with agency_context(commune):
        dossier = dossier_submit(
            agency=commune,
            procedure=AgencyProcedure.objects.get(code="S-KD-001"),
            applicant=Applicant.from_user(citizen),
            form_data=SHOP_FORM,
            files={
                0: [SimpleUploadedFile("don.pdf", plain_pdf(), "application/pdf")],
                1: [
                    SimpleUploadedFile("giay-phep.pdf", good, "application/pdf"),
                    SimpleUploadedFile("sua.pdf", broken, "application/pdf"),
                ],
                2: [png()],
            },
        ).dossier
    client = Client(HTTP_HOST=HOST)
    mfa_login(client, staff.officer)
    page = client.get(f"/mot-cua/ho-so/{dossier.code}/").text
    assert page.count("signature-badge") == 2  # the two signed PDFs only
    assert 'data-code="valid"' in page and "Signature valid: UBND Xã An Bình" in page
    assert 'data-code="changed"' in page and "changed after it was signed" in page
    with agency_context(commune):
        assert DocumentCheck.objects.count() == 3  # the unsigned PDF is checked too, once
        client.get(f"/mot-cua/ho-so/{dossier.code}/")
        assert DocumentCheck.objects.count() == 3
