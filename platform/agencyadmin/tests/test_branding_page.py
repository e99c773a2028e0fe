"""The branding page: validated, sanitised, all or nothing, no orphan logo files."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audit.models import AuditEntry
from core.failpoints import FailpointError
from portal.branding import branding_update, current_branding
from portal.models import Branding
from tenants.context import agency_context
from tests.files import png

VALID = {
    "display_name": "UBND Xã An Bình",
    "primary_color": "#0b5394",
    "accent_color": "#ffcc00",
    "address": "Số 1 đường Trần Phú",
    "phone": "0225 3 123 456",
    "email": "ubnd@anbinh.gov.vn",
    "working_hours": "Thứ Hai – Thứ Sáu, 7:30–17:00",
    "privacy_url": "https://anbinh.gov.vn/quyen-rieng-tu",
    "announcements": (
        '<p>Nghỉ <strong>Tết</strong></p><script>alert(1)</script><a href="javascript:x">x</a>'
    ),
}


def logo_files() -> set[str]:
    """Logo files in the active agency's media folder."""
    root = Path(default_storage.location) / "branding"
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.mark.django_db
def test_branding_is_saved_sanitised_and_shown_on_the_portal(
    commune, admin_client: Client, django_capture_on_commit_callbacks
) -> None:
    page = admin_client.get("/quan-tri/giao-dien/")
    assert page.status_code == 200 and "data-brand-preview" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/quan-tri/giao-dien/", {**VALID, "logo": png("logo.png")})
    assert response.status_code == 302
    with agency_context(commune):
        branding = Branding.objects.get(pk=1)
        assert branding.display_name == "UBND Xã An Bình" and branding.primary_color == "#0b5394"
        assert "<strong>Tết</strong>" in branding.announcements
        assert "script" not in branding.announcements and "javascript" not in branding.announcements
        assert branding.logo.name.endswith(".png") and default_storage.exists(branding.logo.name)
        assert AuditEntry.objects.filter(action="branding.updated").count() == 1
    portal = Client(HTTP_HOST="xa-an-binh.localhost").get("/")
    assert "/giao-dien.css?v=0b5394" in portal.text and "UBND Xã An Bình" in portal.text
    assert "0225 3 123 456" in portal.text and "anbinh.gov.vn/quyen-rieng-tu" in portal.text
    preview = admin_client.get("/quan-tri/giao-dien/")
    # The header preview uses the saved colours (the agency's stylesheet, as on the portal).
    assert "/giao-dien.css?v=0b5394" in preview.text


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_bad_branding_input_is_refused_next_to_the_fields(commune, admin_client: Client) -> None:
    with agency_context(commune):
        files_before = logo_files()
    bad = {
        **VALID,
        "primary_color": "red",
        "email": "not-an-address",
        "privacy_url": "ftp://x.vn/a",
        "logo": SimpleUploadedFile("logo.png", b"GIF89a not an image", content_type="image/png"),
    }
    response = admin_client.post("/quan-tri/giao-dien/", bad)
    assert response.status_code == 400
    text = response.content.decode()
    assert "Enter a valid email address" in text
    assert "nothing was saved" in text
    # The form checks shape; the service checks colours, links and images.
    response = admin_client.post(
        "/quan-tri/giao-dien/",
        {
            **VALID,
            "primary_color": "#12345g",
            "logo": SimpleUploadedFile("x.png", b"MZ\x90\x00", content_type="image/png"),
        },
    )
    text = response.content.decode()
    assert response.status_code == 400
    assert "Enter a colour as #RRGGBB" in text and "not a readable image" in text
    with agency_context(commune):
        assert not Branding.objects.exists()
        assert logo_files() == files_before


@pytest.mark.django_db(transaction=True)
def test_a_failed_save_leaves_no_orphan_logo(commune, monkeypatch) -> None:
    monkeypatch.setenv("MOTCUA_FAILPOINTS", "branding.before_commit:raise")
    with agency_context(commune):
        before = logo_files()
        with pytest.raises(FailpointError):
            branding_update(logo=png("logo.png"), display_name="Sẽ không lưu")
        assert logo_files() == before
        assert not Branding.objects.filter(display_name="Sẽ không lưu").exists()
    monkeypatch.delenv("MOTCUA_FAILPOINTS")
    with agency_context(commune):
        branding_update(logo=png("logo.png"), display_name="Đã lưu")
        kept = current_branding().logo.name
        assert logo_files() == before | {str(Path(default_storage.location) / kept)}
        with pytest.raises(ValidationError):
            branding_update(logo=png("big.png", side=2500))
        assert len(logo_files()) == len(before) + 1
        default_storage.delete(kept)
