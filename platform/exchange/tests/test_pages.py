"""The transfer pages: the commune sends from the dossier page, the department works from
its inbox, a third agency and citizens are turned away."""

from __future__ import annotations

import pytest
from django.test import Client

from desk.tests.conftest import staff_of
from dossiers.models import Dossier, DossierStatus
from exchange.models import Exchange, ExchangeState
from tenants.context import agency_context
from tests.files import pdf
from tests.fixtures.mfa import mfa_login


def client_for(user, host: str) -> Client:
    client = Client(HTTP_HOST=host)
    mfa_login(client, user)
    return client


COMMUNE = "xa-an-binh.localhost"
DEPARTMENT = "so-tnmt.localhost"


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_a_transfer_through_the_pages(
    commune, department, outsider, staff, dept_staff, citizen, at_transfer
) -> None:
    d = at_transfer
    officer = client_for(staff.officer, COMMUNE)
    page = officer.get(f"/mot-cua/ho-so/{d.code}/")
    assert page.status_code == 200 and "Transfer the dossier" in page.text
    assert department.name in page.text and outsider.name in page.text  # both departments
    # Someone else at the commune does not get the form.
    assert (
        "Transfer the dossier"
        not in client_for(staff.officer2, COMMUNE).get(f"/mot-cua/ho-so/{d.code}/").text
    )

    missing = officer.post(f"/mot-cua/lien-thong/gui/{d.code}/", {"step": "2"}, follow=True)
    assert "Choose the agency" in missing.text
    sent = officer.post(
        f"/mot-cua/lien-thong/gui/{d.code}/",
        {"step": "2", "receiver": str(department.pk), "note": "Đề nghị cấp GCN"},
        follow=True,
    )
    assert "The dossier was transferred to" in sent.text
    assert "Transferred to another agency" in sent.text  # the Form 06 trail
    ex = Exchange.objects.get()
    stale = officer.post(
        f"/mot-cua/lien-thong/gui/{d.code}/",
        {"step": "2", "receiver": str(department.pk)},
        follow=True,
    )
    assert "This is not possible while the dossier is" in stale.text
    assert Exchange.objects.count() == 1

    # The department's inbox and the transfer page; it accepts, then returns.
    dept = client_for(dept_staff.officer, DEPARTMENT)
    inbox = dept.get("/mot-cua/lien-thong/")
    assert inbox.status_code == 200 and d.code in inbox.text and commune.name in inbox.text
    detail = dept.get(f"/mot-cua/lien-thong/{ex.pk}/")
    assert "Accept the transfer" in detail.text and "Đề nghị cấp GCN" in detail.text
    assert dept.post(f"/mot-cua/lien-thong/{ex.pk}/nuke/").status_code == 404
    accepted = dept.post(f"/mot-cua/lien-thong/{ex.pk}/accept/", follow=True)
    assert "Done." in accepted.text and "Return to the sending agency" in accepted.text
    doc = ex.documents.first()
    assert doc is not None
    download = dept.get(f"/mot-cua/lien-thong/{ex.pk}/tai-lieu/{doc.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    again = dept.post(f"/mot-cua/lien-thong/{ex.pk}/accept/", follow=True)
    assert "the transfer is" in again.text
    empty = dept.post(f"/mot-cua/lien-thong/{ex.pk}/return/", {"note": ""}, follow=True)
    assert "Attach the result" in empty.text
    returned = dept.post(
        f"/mot-cua/lien-thong/{ex.pk}/return/",
        {"note": "Đã cấp", "files": [pdf("gcn.pdf")]},
        follow=True,
    )
    assert "Done." in returned.text
    ex.refresh_from_db()
    assert ex.state == ExchangeState.RETURNED
    with agency_context(commune):
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.IN_PROCESSING
    back = officer.get(f"/mot-cua/ho-so/{d.code}/")
    assert "Returned by the other agency" in back.text and "gcn.pdf" in back.text
    outbox = officer.get("/mot-cua/lien-thong/")
    assert d.code in outbox.text and "Returned to the sending agency" in outbox.text
    trail = officer.get(f"/mot-cua/lien-thong/{ex.pk}/")
    assert trail.status_code == 200 and "Accept the transfer" not in trail.text
    assert department.name in trail.text and "Đã cấp" in trail.text

    # A third agency's staff: not in its inbox, no page, no document, no action.
    with agency_context(outsider):
        strangers = staff_of(outsider, "sk")
    other = client_for(strangers.admin, "so-khac.localhost")
    assert d.code not in other.get("/mot-cua/lien-thong/").text
    assert other.get(f"/mot-cua/lien-thong/{ex.pk}/").status_code == 404
    assert other.get(f"/mot-cua/lien-thong/{ex.pk}/tai-lieu/{doc.pk}/").status_code == 404
    assert other.post(f"/mot-cua/lien-thong/{ex.pk}/refuse/", {"note": "x"}).status_code == 404
    # Citizens and visitors are not staff.
    assert client_for(citizen, DEPARTMENT).get("/mot-cua/lien-thong/").status_code == 403
    assert Client(HTTP_HOST=DEPARTMENT).get("/mot-cua/lien-thong/").status_code == 302
