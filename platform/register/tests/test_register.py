"""The dossier register (Form 07): filters, pages, the spreadsheet, one agency's dossiers."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.test import Client

from desk import services
from desk.tests.conftest import VN
from dossiers.models import Dossier
from procedures.services import procedures_adopt_for_kind
from register.views import PAGE_SIZE
from tenants.context import agency_context
from tests.fixtures.mfa import mfa_login

HOST = "xa-an-binh.localhost"


def client_for(user, host: str = HOST) -> Client:
    client = Client(HTTP_HOST=host)
    mfa_login(client, user)
    return client


def sheet_text(body: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(body)) as book:
        names = [
            n for n in book.namelist() if n.startswith("xl/worksheets/") or "sharedStrings" in n
        ]
        return "".join(book.read(n).decode() for n in names)


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_the_register_filters_pages_and_exports(commune, staff, submit_shop) -> None:
    with agency_context(commune):
        old = submit_shop(received_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=VN))
        stopped = submit_shop()
        services.dossier_stop(dossier=stopped, actor=staff.leader, reason="Dừng")
        fresh = [submit_shop() for _ in range(3)]
    client = client_for(staff.viewer)
    everything = client.get("/mot-cua/so-theo-doi/")
    assert everything.status_code == 200
    assert all(d.code in everything.text for d in [old, stopped, *fresh])

    by_status = client.get("/mot-cua/so-theo-doi/", {"trang_thai": "stopped"})
    assert stopped.code in by_status.text and old.code not in by_status.text
    by_period = client.get("/mot-cua/so-theo-doi/", {"tu": "2026-03-01", "den": "2026-03-31"})
    assert old.code in by_period.text and stopped.code not in by_period.text
    by_code = client.get("/mot-cua/so-theo-doi/", {"q": fresh[1].code.lower()})
    assert fresh[1].code in by_code.text and fresh[0].code not in by_code.text
    by_channel = client.get("/mot-cua/so-theo-doi/", {"kenh": "desk"})
    assert "No dossiers match." in by_channel.text
    overdue = client.get("/mot-cua/so-theo-doi/", {"han": "overdue"})
    assert old.code in overdue.text and fresh[0].code not in overdue.text

    bad = client.get("/mot-cua/so-theo-doi/", {"tu": "2026-04-01", "den": "2026-03-01"})
    assert "The start of the period is after its end." in bad.text
    assert client.get("/mot-cua/so-theo-doi/xuat-excel/", {"tu": "hôm qua"}).status_code == 400

    export = client.get("/mot-cua/so-theo-doi/xuat-excel/", {"trang_thai": "stopped"})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in export["Content-Disposition"]
    text = sheet_text(b"".join(export.streaming_content))
    assert stopped.code in text and old.code not in text and "Processing stopped" in text


@pytest.mark.django_db
def test_the_register_pages_through_many_dossiers(commune, staff, submit_shop) -> None:
    with agency_context(commune):
        first = submit_shop()
        # Copies of one dossier are enough to fill more than one page.
        rows = [
            Dossier(
                code=f"AB-COPY-{n:04d}",
                lookup_secret="x",
                procedure_id=first.procedure_id,
                procedure_version_id=first.procedure_version_id,
                channel=first.channel,
                applicant_name=f"Người {n}",
                received_at=first.received_at - dt.timedelta(minutes=n + 1),
                counting_start=first.counting_start,
                due_date=first.due_date,
            )
            for n in range(PAGE_SIZE + 5)
        ]
        Dossier.objects.bulk_create(rows)
    client = client_for(staff.viewer)
    page1 = client.get("/mot-cua/so-theo-doi/")
    assert first.code in page1.text and "AB-COPY-0000" in page1.text
    assert "AB-COPY-0054" not in page1.text and "trang=2" in page1.text
    page2 = client.get("/mot-cua/so-theo-doi/", {"trang": "2"})
    assert "AB-COPY-0054" in page2.text and first.code not in page2.text
    export = client.get("/mot-cua/so-theo-doi/xuat-excel/")
    text = sheet_text(b"".join(export.streaming_content))
    assert "AB-COPY-0054" in text and first.code in text


@pytest.mark.django_db
def test_each_agency_registers_only_its_own_dossiers(commune, make_agency, submit_shop) -> None:
    from desk.tests.conftest import staff_of

    other = make_agency("xa-binh-an", name="Xã Bình An", code="BA")
    with agency_context(other):
        procedures_adopt_for_kind(agency=other, publish=True)
        b_staff = staff_of(other, "ba")
        b_dossier = submit_shop(agency=other)
    with agency_context(commune):
        a_staff = staff_of(commune, "ab")
        a_dossier = submit_shop()
    a_page = client_for(a_staff.viewer).get("/mot-cua/so-theo-doi/")
    assert a_dossier.code in a_page.text and b_dossier.code not in a_page.text
    b_client = client_for(b_staff.viewer, "xa-binh-an.localhost")
    b_export = b_client.get("/mot-cua/so-theo-doi/xuat-excel/")
    text = sheet_text(b"".join(b_export.streaming_content))
    assert b_dossier.code in text and a_dossier.code not in text
    assert b_client.get(f"/mot-cua/in/{a_dossier.code}/06/").status_code == 404
