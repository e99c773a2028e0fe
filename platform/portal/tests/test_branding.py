"""Branding: real images only, sanitised rich text, per-agency, used on every page."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portal.branding import branding_update, current_branding, sanitize_html
from tenants.context import agency_context
from tests.files import png


def test_rich_text_keeps_simple_formatting_and_drops_the_rest() -> None:
    dirty = (
        '<p onclick="x()">Nghỉ <strong>Tết</strong><script>alert(1)</script></p>'
        '<a href="javascript:alert(1)">x</a><a href="https://hp.gov.vn">ok</a><img src=x onerror=y>'
    )
    clean = sanitize_html(dirty)
    assert "<strong>Tết</strong>" in clean and "https://hp.gov.vn" in clean
    for bad in ("script", "onclick", "javascript:", "<img", "onerror"):
        assert bad not in clean
    assert 'rel="noopener noreferrer nofollow"' in clean


@pytest.mark.django_db
def test_a_real_logo_is_stored_as_png_and_shown_on_the_portal(
    agency_a, agency_b, django_capture_on_commit_callbacks
) -> None:
    with agency_context(agency_a), django_capture_on_commit_callbacks(execute=True):
        branding_update(
            logo=png("logo.png", side=900),
            primary_color="#0b5394",
            display_name="UBND Phường A",
            announcements="<p>Chào mừng</p>",
        )
    with agency_context(agency_a):
        branding = current_branding()
        assert branding.logo.name.startswith("branding/") and branding.logo.name.endswith(".png")
        assert default_storage.exists(branding.logo.name)
    page = Client().get("/", HTTP_HOST="phuong-a.localhost")
    assert "UBND Phường A" in page.text and "Chào mừng" in page.text
    # The colours come in a stylesheet of their own (no inline style under the CSP).
    assert "/giao-dien.css?v=0b5394" in page.text
    css = Client().get("/giao-dien.css", HTTP_HOST="phuong-a.localhost")
    assert "--brand:#0b5394" in css.content.decode()
    logo = Client().get("/logo.png", HTTP_HOST="phuong-a.localhost")
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert b"".join(logo.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    other = Client().get("/", HTTP_HOST="phuong-b.localhost")
    assert "UBND Phường A" not in other.text and "#0b5394" not in other.text
    assert Client().get("/logo.png", HTTP_HOST="phuong-b.localhost").status_code == 404


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_bad_branding_input_is_refused_whole(agency_a) -> None:
    fake = SimpleUploadedFile("logo.png", b"GIF89a not really an image", content_type="image/png")
    with agency_context(agency_a):
        with pytest.raises(ValidationError) as exc:
            branding_update(logo=fake, primary_color="red", privacy_url="ftp://x")
        assert set(exc.value.message_dict) == {"logo", "primary_color", "privacy_url"}
        assert current_branding().primary_color == "#b3261e"  # nothing changed
        with pytest.raises(ValidationError, match="at most"):
            branding_update(logo=png("big.png", side=2500))
