"""The citizen portal through HTTP: browse, submit with a draft, receipt, tracking, my dossiers."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from dossiers.models import Dossier, DossierDraft
from tenants.context import agency_context
from tests.files import exe, pdf, png

HOST = "xa-an-binh.localhost"
BIRTH = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Trạm y tế xã",
}


@pytest.fixture
def browser_client(citizen) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.force_login(citizen)
    return client


@pytest.mark.django_db
def test_procedures_are_listed_searched_and_detailed(commune) -> None:
    client = Client(HTTP_HOST=HOST)
    listing = client.get("/thu-tuc/", {"q": "khai sinh"})
    assert listing.status_code == 200
    assert "Đăng ký khai sinh" in listing.text and "Đăng ký kết hôn" not in listing.text
    by_sector = client.get("/thu-tuc/", {"linh-vuc": "Chứng thực"})
    assert "Chứng thực bản sao từ bản chính" in by_sector.text and "khai sinh" not in by_sector.text
    detail = client.get("/thu-tuc/S-HT-001/")
    assert detail.status_code == 200
    for text in ("Giấy chứng sinh", "Tiếp nhận", "Giấy khai sinh", "/thu-tuc/S-HT-001/nop/"):
        assert text in detail.text
    assert client.get("/thu-tuc/S-TP-001/").status_code == 404  # a department's procedure


@pytest.mark.django_db
def test_submitting_requires_an_account(commune) -> None:
    response = Client(HTTP_HOST=HOST).get("/thu-tuc/S-HT-001/nop/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_draft_resume_review_submit_receipt_and_tracking(commune, citizen, browser_client) -> None:
    form = {
        "applicant_name": "Nguyễn Văn A",
        "applicant_id_number": "031095001234",
        "applicant_phone": "0912345678",
        "applicant_address": "Xã An Bình",
        "f_child_full_name": "Nguyễn Văn B",
        "f_child_birth_date": "2026-11-20",
        "f_child_sex": "Nam",
        "f_birth_place": "Trạm y tế xã",
    }
    saved = browser_client.post(
        "/thu-tuc/S-HT-001/nop/", {**form, "component_0": pdf(), "action": "save"}
    )
    assert saved.status_code == 302
    with agency_context(commune):
        draft = DossierDraft.objects.get()
        assert draft.documents.count() == 1
    # Another device: a new session of the same person finds and continues the draft.
    other_device = Client(HTTP_HOST=HOST)
    other_device.force_login(citizen)
    mine = other_device.get("/ho-so-cua-toi/")
    assert f"/nop-ho-so/{draft.pk}/" in mine.text
    page = other_device.get(f"/nop-ho-so/{draft.pk}/")
    assert "Nguyễn Văn B" in page.text and "to-khai.pdf" in page.text
    # Review is refused while a required component is missing, with the reason.
    review = other_device.post(f"/nop-ho-so/{draft.pk}/", {**form, "action": "review"})
    assert review.status_code == 400  # stays on the form, the problem next to its field
    assert "Giấy chứng sinh" in review.text
    assert "is required" in review.text or "bắt buộc" in review.text
    other_device.post(f"/nop-ho-so/{draft.pk}/", {**form, "component_1": png(), "action": "review"})
    summary = other_device.get(f"/nop-ho-so/{draft.pk}/xem-lai/")
    assert summary.status_code == 200 and "Trạm y tế xã" in summary.text
    done = other_device.post(f"/nop-ho-so/{draft.pk}/xem-lai/")
    assert done.status_code == 302 and "/bien-nhan/" in done["Location"]
    with agency_context(commune):
        dossier = Dossier.objects.get()
        assert not DossierDraft.objects.exists()
        assert dossier.documents.count() == 2
    receipt = other_device.get(done["Location"])
    assert dossier.code in receipt.text and dossier.lookup_secret in receipt.text
    assert "<svg" in receipt.text  # the QR code
    # Anyone with code + secret, logged out, can track it.
    tracked = Client(HTTP_HOST=HOST).post(
        "/tra-cuu/", {"code": dossier.code, "secret": dossier.lookup_secret}
    )
    assert tracked.status_code == 200 and dossier.code in tracked.text
    assert "Nguyễn Văn A" not in tracked.text  # no personal data on the public page


@pytest.mark.django_db
def test_a_renamed_executable_is_refused_and_nothing_is_kept(commune, browser_client) -> None:
    response = browser_client.post(
        "/thu-tuc/S-HT-001/nop/", {"applicant_name": "A", "component_0": exe(), "action": "save"}
    )
    assert response.status_code == 400
    assert re.search(r"not an accepted document|không phải", response.text)
    with agency_context(commune):
        assert not DossierDraft.objects.exists()


@pytest.mark.django_db
def test_someone_elses_dossier_and_draft_are_not_found(commune, citizen, browser_client) -> None:
    from accounts.models import User

    browser_client.post("/thu-tuc/S-HT-001/nop/", {"applicant_name": "A", "action": "save"})
    with agency_context(commune):
        draft = DossierDraft.objects.get()
    stranger = Client(HTTP_HOST=HOST)
    stranger.force_login(User.objects.create_user("khac@example.vn", "mat-khau-rat-dai-2"))
    assert (
        stranger.get(f"/nop-ho-so/{draft.pk}/", follow=True).redirect_chain[-1][0]
        == "/ho-so-cua-toi/"
    )
    assert stranger.post(f"/nop-ho-so/{draft.pk}/xoa/").status_code == 404


@pytest.mark.django_db
def test_guessing_is_rate_limited_per_client(commune, citizen) -> None:
    """Per address: 20 wrong answers over many codes, then refused (see test_tracking_limits
    for the limits per code and on the codes probed). A forged X-Forwarded-For does not buy
    a fresh budget (no proxy is configured in front of this server)."""
    from portal import lookup_limits

    guesser = Client(HTTP_HOST=HOST, REMOTE_ADDR="10.0.0.9")
    codes = [f"AB-000000-{i:04d}" for i in range(lookup_limits.CODES_PER_CLIENT)]
    statuses = [
        guesser.post("/tra-cuu/", {"code": codes[i % len(codes)], "secret": f"X{i}"}).status_code
        for i in range(lookup_limits.WRONG_PER_CLIENT)
    ]
    assert statuses == [404] * lookup_limits.WRONG_PER_CLIENT
    assert guesser.post("/tra-cuu/", {"code": codes[0], "secret": "X"}).status_code == 429
    forged = Client(HTTP_HOST=HOST, REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert forged.post("/tra-cuu/", {"code": codes[1], "secret": "X"}).status_code == 429
    # An IPv6 client is one /64: the next address in it is the same guesser.
    v6 = Client(HTTP_HOST=HOST, REMOTE_ADDR="2001:db8:1:2::1")
    for i in range(lookup_limits.WRONG_PER_CLIENT_AND_CODE):
        assert v6.post("/tra-cuu/", {"code": codes[0], "secret": f"Y{i}"}).status_code == 404
    neighbour = Client(HTTP_HOST=HOST, REMOTE_ADDR="2001:db8:1:2:ffff::9")
    assert neighbour.post("/tra-cuu/", {"code": codes[0], "secret": "Y"}).status_code == 429


@pytest.mark.django_db
def test_successful_lookups_are_never_throttled(commune, citizen) -> None:
    from lifecycle.submit import Applicant, dossier_submit
    from procedures.models import AgencyProcedure

    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        dossier = dossier_submit(
            agency=commune,
            procedure=birth,
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH,
            files={0: [pdf()], 1: [pdf()]},
        ).dossier
    kiosk = Client(HTTP_HOST=HOST)
    for _ in range(40):
        page = kiosk.get("/tra-cuu/", {"ma": dossier.code, "bi-mat": dossier.lookup_secret})
        assert page.status_code == 200


@pytest.mark.django_db
def test_profile_is_validated(commune, browser_client) -> None:
    bad = browser_client.post(
        "/tai-khoan/", {"full_name": "A", "personal_id_number": "123", "phone": "1", "address": ""}
    )
    assert bad.status_code == 200 and "12" in bad.text
    good = browser_client.post(
        "/tai-khoan/",
        {
            "full_name": "Trần Thị C",
            "personal_id_number": "001195012345",
            "phone": "0987654321",
            "address": "Hà Nội",
        },
    )
    assert good.status_code == 302


@pytest.mark.django_db
def test_an_expired_draft_or_an_unpublished_procedure_is_explained(commune, browser_client) -> None:
    import datetime as dt

    from django.utils import timezone

    from procedures.models import AgencyProcedure
    from procedures.services import procedure_unpublish

    browser_client.post("/thu-tuc/S-HT-001/nop/", {"applicant_name": "A", "action": "save"})
    browser_client.post("/thu-tuc/S-HT-002/nop/", {"applicant_name": "A", "action": "save"})
    with agency_context(commune):
        old, current = DossierDraft.objects.order_by("created_at")
        DossierDraft.objects.filter(pk=old.pk).update(
            expires_at=timezone.now() - dt.timedelta(days=1)
        )
        procedure_unpublish(procedure=AgencyProcedure.objects.get(code="S-HT-002"))
    expired = browser_client.get(f"/nop-ho-so/{old.pk}/xem-lai/", follow=True)
    assert "expired" in expired.text or "hết hạn" in expired.text
    gone = browser_client.get(f"/nop-ho-so/{current.pk}/", follow=True)
    assert "no longer offered" in gone.text or "không còn" in gone.text


def test_vnd_formats_amounts_the_vietnamese_way() -> None:
    from portal.templatetags.motcua import vnd

    assert vnd(220000) == "220.000 ₫"
    assert vnd(1500) == "1.500 ₫"
    assert vnd("x") == ""


@pytest.mark.django_db
def test_public_pages_are_cached_per_agency_and_refreshed_on_publication(
    commune, make_agency, django_capture_on_commit_callbacks
) -> None:
    from procedures.models import AgencyProcedure
    from procedures.services import procedure_unpublish, procedures_adopt_for_kind

    other = make_agency("xa-khac", name="Xã Khác", code="XK")
    with agency_context(other):
        procedures_adopt_for_kind(agency=other, publish=True)
    visitor = Client(HTTP_HOST=HOST)
    first = visitor.get("/thu-tuc/S-HT-001/")
    again = visitor.get("/thu-tuc/S-HT-001/")
    assert first["X-Page-Cache"] == "miss" and again["X-Page-Cache"] == "hit"
    assert again.content == first.content
    # Same path on another agency: its own page, never the cached one of the first.
    elsewhere = Client(HTTP_HOST="xa-khac.localhost").get("/thu-tuc/S-HT-001/")
    assert elsewhere["X-Page-Cache"] == "miss" and "Xã Khác" in elsewhere.text
    assert "Xã An Bình" not in elsewhere.text
    # Publication changes are visible at once.
    with agency_context(commune), django_capture_on_commit_callbacks(execute=True):
        procedure_unpublish(procedure=AgencyProcedure.objects.get(code="S-HT-001"))
    assert visitor.get("/thu-tuc/S-HT-001/").status_code == 404
    # English is its own cached page.
    english = Client(HTTP_HOST=HOST)
    english.cookies["django_language"] = "en"
    assert "Administrative procedures" in english.get("/thu-tuc/").text


@pytest.mark.django_db
def test_signed_in_visitors_get_their_own_page(commune, browser_client) -> None:
    Client(HTTP_HOST=HOST).get("/thu-tuc/S-HT-001/")  # cache the anonymous page
    mine = browser_client.get("/thu-tuc/S-HT-001/")
    assert "X-Page-Cache" not in mine
    assert "Nguyễn Văn A" in mine.text  # their name in the header, not the anonymous links


@pytest.mark.django_db
def test_language_links_set_the_cookie_and_stay_on_the_host(commune) -> None:
    client = Client(HTTP_HOST=HOST)
    response = client.get("/ngon-ngu/en/", {"next": "/thu-tuc/"})
    assert response.status_code == 302 and response["Location"] == "/thu-tuc/"
    assert response.cookies["django_language"].value == "en"
    assert client.get("/thu-tuc/").text.count("Administrative procedures") >= 1
    evil = client.get("/ngon-ngu/vi/", {"next": "https://evil.example/"})
    assert evil["Location"] == "/"
    assert client.get("/ngon-ngu/xx/").status_code == 404
