"""The applicant downloads the result (kept in their document store), rates once, withdraws."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from desk import services
from docstore.models import StoredDocument
from dossiers.models import Dossier, DossierStatus, ReturnMethod
from procedures.services import procedures_adopt_for_kind
from results.models import Rating
from tenants.context import agency_context
from tests.files import PDF, pdf

HOST = "xa-an-binh.localhost"


def client_for(user: Any, host: str = HOST) -> Client:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


def approve(d: Dossier, staff: Any, *, returned: bool = True) -> None:
    """Take a dossier through the commune's process to an issued (and returned) result."""
    services.dossier_claim(dossier=d, actor=staff.receptionist)
    services.dossier_forward(dossier=d, actor=staff.receptionist)
    services.dossier_claim(dossier=d, actor=staff.officer)
    services.result_attach(dossier=d, actor=staff.officer, file=pdf("gcn.pdf"), number="12/GCN")
    services.dossier_forward(dossier=d, actor=staff.officer, to=staff.leader)
    services.dossier_approve(dossier=d, actor=staff.leader)
    if returned:
        services.dossier_claim(dossier=d, actor=staff.receptionist)
        services.result_return(dossier=d, actor=staff.receptionist, method=ReturnMethod.ELECTRONIC)


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_the_citizen_downloads_keeps_and_rates_the_result(
    commune, staff, submit_shop, citizen
) -> None:
    with agency_context(commune):
        d = submit_shop()
    me = client_for(citizen)
    page = me.get(f"/ho-so-cua-toi/{d.code}/")
    assert "Withdraw this dossier" in page.text and "Rate our service" not in page.text
    early = me.post(f"/ho-so-cua-toi/{d.code}/danh-gia/", {"score": "5"}, follow=True)
    assert "once the result is returned" in early.text

    with agency_context(commune):
        approve(d, staff)
        result = d.results.get()
    page = me.get(f"/ho-so-cua-toi/{d.code}/")
    link = f"/ho-so-cua-toi/{d.code}/ket-qua/{result.pk}/"
    assert link in page.text and "Rate our service" in page.text
    assert "Withdraw this dossier" not in page.text
    download = me.get(link)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]
    me.get(link)  # a second download keeps one entry
    entry = StoredDocument.objects.get(owner=citizen)
    assert (entry.agency_id, entry.dossier_code, entry.number) == (commune.pk, d.code, "12/GCN")
    store = me.get("/kho-du-lieu/")
    assert "12/GCN" in store.text and "Xã An Bình" in store.text
    again = me.get(f"/kho-du-lieu/{entry.pk}/")
    assert b"".join(again.streaming_content) == PDF

    bad = me.post(f"/ho-so-cua-toi/{d.code}/danh-gia/", {"score": "9"}, follow=True)
    assert "Choose a score from 1 to 5." in bad.text
    ok = me.post(
        f"/ho-so-cua-toi/{d.code}/danh-gia/", {"score": "4", "comment": "Nhanh"}, follow=True
    )
    assert "Thank you for rating" in ok.text and "You rated this service 4 out of 5." in ok.text
    second = me.post(f"/ho-so-cua-toi/{d.code}/danh-gia/", {"score": "1"}, follow=True)
    assert "You have already rated this dossier." in second.text
    with agency_context(commune):
        assert [(r.score, r.comment) for r in Rating.objects.all()] == [(4, "Nhanh")]


@pytest.mark.django_db
def test_only_the_applicant_downloads_rates_or_withdraws(
    commune, staff, submit_shop, citizen
) -> None:
    from accounts.models import User

    stranger = User.objects.create_user("khac@example.vn", "x", full_name="Người Khác")
    with agency_context(commune):
        d = submit_shop()
        approve(d, staff)
        result = d.results.get()
        open_one = submit_shop()
    other = client_for(stranger)
    assert other.get(f"/ho-so-cua-toi/{d.code}/ket-qua/{result.pk}/").status_code == 404
    assert other.post(f"/ho-so-cua-toi/{d.code}/danh-gia/", {"score": "1"}).status_code == 404
    assert other.post(f"/ho-so-cua-toi/{open_one.code}/rut-ho-so/").status_code == 404
    # Staff see the dossier at the desk, but the applicant's pages are not theirs.
    desk = client_for(staff.leader)
    assert desk.get(f"/ho-so-cua-toi/{d.code}/ket-qua/{result.pk}/").status_code == 404
    me = client_for(citizen)
    entry_id = None
    me.get(f"/ho-so-cua-toi/{d.code}/ket-qua/{result.pk}/")
    entry_id = StoredDocument.objects.get(owner=citizen).pk
    assert other.get(f"/kho-du-lieu/{entry_id}/").status_code == 404
    assert "12/GCN" not in other.get("/kho-du-lieu/").text
    with agency_context(commune):
        assert not Rating.objects.exists()
        assert Dossier.objects.get(pk=open_one.pk).status == DossierStatus.RECEIVED


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_the_citizen_withdraws_after_confirming(commune, submit_shop, citizen) -> None:
    with agency_context(commune):
        d = submit_shop()
    me = client_for(citizen)
    confirm = me.get(f"/ho-so-cua-toi/{d.code}/rut-ho-so/")
    assert confirm.status_code == 200 and "Do you really want to withdraw" in confirm.text
    with agency_context(commune):
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.RECEIVED
    done = me.post(f"/ho-so-cua-toi/{d.code}/rut-ho-so/", {"reason": "Nộp nhầm"}, follow=True)
    assert "Your dossier was withdrawn." in done.text
    with agency_context(commune):
        assert Dossier.objects.get(pk=d.pk).status == DossierStatus.WITHDRAWN
    twice = me.post(f"/ho-so-cua-toi/{d.code}/rut-ho-so/", follow=True)
    assert "This is not possible while the dossier is" in twice.text


@pytest.mark.django_db
def test_the_document_store_spans_agencies_but_files_stay_with_each(
    commune, make_agency, submit_shop, citizen
) -> None:
    from desk.tests.conftest import staff_of

    other = make_agency("xa-binh-an", name="Xã Bình An", code="BA")
    with agency_context(other):
        procedures_adopt_for_kind(agency=other, publish=True)
        b_staff = staff_of(other, "ba")
        b = submit_shop(agency=other)
        approve(b, b_staff)
        b_result = b.results.get()
    with agency_context(commune):
        a_staff = staff_of(commune, "ab")
        a = submit_shop()
        approve(a, a_staff)
        a_result = a.results.get()
    assert a_result.pk == b_result.pk  # ids repeat across schemas
    client_for(citizen).get(f"/ho-so-cua-toi/{a.code}/ket-qua/{a_result.pk}/")
    b_client = client_for(citizen, "xa-binh-an.localhost")
    b_client.get(f"/ho-so-cua-toi/{b.code}/ket-qua/{b_result.pk}/")
    # A's dossier code does not resolve on B's host.
    assert b_client.get(f"/ho-so-cua-toi/{a.code}/ket-qua/{a_result.pk}/").status_code == 404
    entries = {e.agency_id: e for e in StoredDocument.objects.filter(owner=citizen)}
    assert set(entries) == {commune.pk, other.pk}
    # On B's host the store lists both, and A's file is read from A's storage.
    listing = b_client.get("/kho-du-lieu/")
    assert a.code in listing.text and b.code in listing.text
    body = b"".join(b_client.get(f"/kho-du-lieu/{entries[commune.pk].pk}/").streaming_content)
    assert body == PDF
