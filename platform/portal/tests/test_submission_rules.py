"""The citizen's submission form through HTTP: an over-long answer or a negative amount is
refused with its reason (never cut, never saved half-way), and one form makes one draft."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from dossiers.models import Dossier, DossierDraft
from tenants.context import agency_context
from tests.files import pdf, png

HOST = "xa-an-binh.localhost"
BIRTH = {
    "applicant_name": "Nguyễn Văn A",
    "applicant_id_number": "031095001234",
    "applicant_phone": "0912345678",
    "applicant_address": "Xã An Bình",
    "f_child_full_name": "Nguyễn Văn B",
    "f_child_birth_date": "2026-11-20",
    "f_child_sex": "Nam",
    "f_birth_place": "Trạm y tế xã",
}
SHOP = {
    "applicant_name": "Nguyễn Văn A",
    "f_business_name": "Tạp hoá Minh An",
    "f_business_address": "Thôn 2, Xã An Bình",
    "f_capital": "-5",
    "f_trade": "Bán lẻ hàng tạp hoá",
}


@pytest.fixture
def browser(citizen) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.force_login(citizen)
    return client


def draft_id_of(page: str) -> str:
    """The id the form was given for its draft ("" if it names none)."""
    match = re.search(r'name="draft_id" value="([0-9a-f-]{36})"', page)
    return match.group(1) if match else ""


def drafts() -> list[DossierDraft]:
    return list(DossierDraft.objects.all())


@pytest.mark.django_db
def test_an_over_long_answer_is_refused_with_the_limit_and_nothing_is_saved(
    commune, browser
) -> None:
    form_id = draft_id_of(browser.get("/thu-tuc/S-HT-001/nop/").content.decode())
    for action in ("save", "review"):
        response = browser.post(
            "/thu-tuc/S-HT-001/nop/",
            {
                **BIRTH,
                "f_birth_place": "x" * 100_000,
                "component_0": pdf(),
                "component_1": png(),
                "draft_id": form_id,
                "action": action,
            },
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "4000" in page and "100000" in page  # the limit, and what was sent
        assert "x" * 100_000 in page  # given back whole to shorten, not cut
    with agency_context(commune):
        assert not drafts() and not Dossier.objects.exists()


@pytest.mark.django_db
def test_a_negative_amount_is_refused_at_review_and_never_received(commune, browser) -> None:
    response = browser.post(
        "/thu-tuc/S-KD-001/nop/",
        {**SHOP, "component_0": pdf(), "component_1": pdf(), "action": "review"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "cannot be negative" in page or "không được là số âm" in page
    assert 'min="0"' in page  # the browser is told as well
    with agency_context(commune):
        assert not Dossier.objects.exists()
        (draft,) = drafts()
    # Submitting the draft straight away (skipping the review page) is refused the same way.
    submitted = browser.post(f"/nop-ho-so/{draft.pk}/xem-lai/")
    assert submitted.status_code == 302 and f"/nop-ho-so/{draft.pk}/" in submitted["Location"]
    with agency_context(commune):
        assert not Dossier.objects.exists()


@pytest.mark.django_db
def test_one_form_makes_one_draft_even_after_errors(commune, citizen, browser) -> None:
    start = browser.get("/thu-tuc/S-HT-001/nop/").content.decode()
    form_id = draft_id_of(start)
    incomplete = {**BIRTH, "f_birth_place": "", "draft_id": form_id}
    # "Continue" with errors: the problems are shown, and the page says a draft was kept.
    review = browser.post("/thu-tuc/S-HT-001/nop/", {**incomplete, "action": "review"})
    assert review.status_code == 400
    page = review.content.decode()
    with agency_context(commune):
        (draft,) = drafts()
    # The same form sent again (the page posted back to where it came from, a reload, the
    # back button, a second click) updates that draft instead of making another.
    again = browser.post("/thu-tuc/S-HT-001/nop/", {**incomplete, "action": "save"})
    assert again.status_code == 302 and again["Location"] == f"/nop-ho-so/{draft.pk}/"
    with agency_context(commune):
        assert [d.pk for d in drafts()] == [draft.pk]
    assert "saved in your draft" in page or "đã được lưu vào bản nháp" in page
    assert str(draft.pk) == form_id  # the id the form was given when first shown
    assert f'action="/nop-ho-so/{draft.pk}/"' in page  # and the page now posts to it
    browser.post(f"/nop-ho-so/{draft.pk}/", {**incomplete, "action": "save"})
    with agency_context(commune):
        assert [d.pk for d in drafts()] == [draft.pk]
    # Another form (a second dossier for the same procedure) is another draft.
    other_id = draft_id_of(browser.get("/thu-tuc/S-HT-001/nop/").content.decode())
    assert other_id != form_id
    browser.post("/thu-tuc/S-HT-001/nop/", {**BIRTH, "draft_id": other_id, "action": "save"})
    with agency_context(commune):
        assert len(drafts()) == 2


@pytest.mark.django_db
def test_a_draft_id_of_someone_else_takes_nothing_over(commune, citizen, browser) -> None:
    from accounts.models import User

    form_id = draft_id_of(browser.get("/thu-tuc/S-HT-001/nop/").content.decode())
    browser.post("/thu-tuc/S-HT-001/nop/", {**BIRTH, "draft_id": form_id, "action": "save"})
    stranger = Client(HTTP_HOST=HOST)
    stranger.force_login(User.objects.create_user("khac@example.vn", "mat-khau-rat-dai-2"))
    response = stranger.post(
        "/thu-tuc/S-HT-001/nop/",
        {**BIRTH, "applicant_name": "Kẻ Lạ", "draft_id": form_id, "action": "save"},
    )
    assert response.status_code == 400
    with agency_context(commune):
        (draft,) = drafts()
        assert draft.applicant_id == citizen.pk
        assert draft.applicant_data["applicant_name"] == "Nguyễn Văn A"
    # Another procedure's form id is refused too, not moved across.
    moved = browser.post("/thu-tuc/S-KD-001/nop/", {**SHOP, "draft_id": form_id, "action": "save"})
    assert moved.status_code == 400
    with agency_context(commune):
        assert drafts()[0].procedure.code == "S-HT-001"
