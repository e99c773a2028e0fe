"""Reuse of the citizen's document store in a new submission: per component, the matching
stored documents (here a certified copy) are offered and attached without uploading; the
officer sees "from the citizen's store, signature verified". Only the owner's own entries:
another citizen's id is refused. Across agencies: the citizen's own entry from commune A may
be attached to a dossier at agency B (it is their document, copied into B's files, and B's
officers see it); A's officers never see B's dossier."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from copies.services import certified_copy_issue
from desk.tests.conftest import SHOP_FORM
from docstore.models import StoredDocument
from dossiers.models import Dossier, DossierDraft
from procedures.services import procedures_adopt_for_kind
from tenants.context import agency_context
from tests.files import pdf, png
from tests.fixtures.mfa import mfa_login
from verification.tests.conftest import pki, plain_pdf, signed_pdf, staff, submit_shop

__all__ = ["pki", "plain_pdf", "signed_pdf", "staff", "submit_shop"]

HOST = "xa-an-binh.localhost"
HOST_B = "phuong-b.localhost"
TITLE = "Giấy tờ pháp lý của chủ hộ (căn cước)"
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def form_for(citizen: Any) -> dict[str, str]:
    return {
        "applicant_name": citizen.full_name,
        "applicant_id_number": citizen.personal_id_number,
        "applicant_phone": citizen.phone,
        "applicant_address": citizen.address,
        **{f"f_{k}": v for k, v in SHOP_FORM.items()},
    }


def citizen_client(user: Any, host: str = HOST) -> Client:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


def staff_client(user: Any, host: str = HOST) -> Client:
    client = Client(HTTP_HOST=host)
    mfa_login(client, user)
    return client


def certified_copy_for(commune: Any, staff: Any, owner: Any) -> StoredDocument:
    with agency_context(commune):
        copy = certified_copy_issue(
            actor=staff.officer, title=TITLE, scan=png(), owner=owner, base_url=f"http://{HOST}/"
        )
    return StoredDocument.objects.get(owner=owner, source_id=copy.pk)


def test_the_form_offers_the_matching_stored_document_and_attaches_it(
    pki: Any, commune: Any, staff: Any, citizen: Any
) -> None:
    entry = certified_copy_for(commune, staff, citizen)
    me = citizen_client(citizen)
    page = me.get("/thu-tuc/S-KD-001/nop/")
    assert "Already in your document store" in page.text
    # Offered under the component it fits (1: the owner's legal papers), not the others.
    assert f'name="store_1" value="{entry.pk}"' in page.text
    assert 'name="store_0"' not in page.text and 'name="store_2"' not in page.text

    saved = me.post(
        "/thu-tuc/S-KD-001/nop/",
        {**form_for(citizen), "component_0": pdf(), "store_1": str(entry.pk), "action": "review"},
    )
    assert saved.status_code == 302 and "/xem-lai/" in saved["Location"], saved.content[:3000]
    with agency_context(commune):
        draft = DossierDraft.objects.get()
        kept = draft.documents.get(component_position=1)
        assert kept.from_store_document == entry.pk and kept.sha256 == entry.sha256
    # Saving the form again does not attach it twice, and it is no longer offered.
    again = me.get(f"/nop-ho-so/{draft.pk}/")
    assert "from your document store" in again.text
    assert f'name="store_1" value="{entry.pk}"' not in again.text
    review = me.get(f"/nop-ho-so/{draft.pk}/xem-lai/")
    assert "from your document store" in review.text
    done = me.post(f"/nop-ho-so/{draft.pk}/xem-lai/")
    assert done.status_code == 302
    with agency_context(commune):
        dossier = Dossier.objects.get()
        document = dossier.documents.get(component_position=1)
        assert document.from_store_document == entry.pk
    desk = staff_client(staff.officer).get(f"/mot-cua/ho-so/{dossier.code}/")
    assert "From the citizen's store, signature verified" in desk.text
    assert 'data-code="valid"' in desk.text and "UBND Xã An Bình" in desk.text


def test_another_citizens_document_is_refused(
    pki: Any, commune: Any, staff: Any, citizen: Any
) -> None:
    other = User.objects.create_user("tranthib@example.vn", "x", full_name="Trần Thị B")
    theirs = certified_copy_for(commune, staff, other)
    refused = citizen_client(citizen).post(
        "/thu-tuc/S-KD-001/nop/",
        {**form_for(citizen), "component_0": pdf(), "store_1": str(theirs.pk), "action": "save"},
    )
    assert refused.status_code == 400
    assert "This document is not in your document store." in refused.text
    with agency_context(commune):
        assert not DossierDraft.objects.exists()
    # A made-up id, too.
    made_up = citizen_client(citizen).post(
        "/thu-tuc/S-KD-001/nop/",
        {**form_for(citizen), "store_1": "99999999", "action": "save"},
    )
    assert "This document is not in your document store." in made_up.text


def test_the_citizens_own_document_from_another_agency(
    pki: Any, commune: Any, staff: Any, citizen: Any, make_agency: Any
) -> None:
    agency_b = make_agency("phuong-b", name="Phường B", code="PB")
    with agency_context(agency_b):
        procedures_adopt_for_kind(agency=agency_b, publish=True)
    officer_b = User.objects.create_user("canbo.b@example.vn", "x", full_name="Cán Bộ B")
    from accounts.services import membership_grant

    membership_grant(user=officer_b, agency=agency_b, roles=["officer"])
    entry = certified_copy_for(commune, staff, citizen)
    me = citizen_client(citizen, HOST_B)
    page = me.get("/thu-tuc/S-KD-001/nop/")
    assert f'name="store_1" value="{entry.pk}"' in page.text and "Xã An Bình" in page.text
    saved = me.post(
        "/thu-tuc/S-KD-001/nop/",
        {**form_for(citizen), "component_0": pdf(), "store_1": str(entry.pk), "action": "review"},
    )
    assert saved.status_code == 302, saved.content[:3000]
    with agency_context(agency_b):
        draft = DossierDraft.objects.get()
    assert me.post(f"/nop-ho-so/{draft.pk}/xem-lai/").status_code == 302
    with agency_context(agency_b):
        dossier = Dossier.objects.get()
        copied = dossier.documents.get(component_position=1)
        assert copied.from_store_document == entry.pk
        assert copied.file.name.startswith("dossiers/")  # B's own copy of the file
    with agency_context(commune):
        assert not Dossier.objects.filter(code=dossier.code).exists()
    seen = staff_client(officer_b, HOST_B).get(f"/mot-cua/ho-so/{dossier.code}/")
    assert "From the citizen's store, signature verified" in seen.text
    # The commune's officers never see B's dossier: not on their host, not on B's.
    assert staff_client(staff.officer).get(f"/mot-cua/ho-so/{dossier.code}/").status_code == 404
    assert staff_client(staff.officer, HOST_B).get(
        f"/mot-cua/ho-so/{dossier.code}/"
    ).status_code in (
        302,
        403,
    )
