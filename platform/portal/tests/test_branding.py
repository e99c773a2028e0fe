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


@pytest.mark.django_db
def test_an_agency_page_reads_its_branding_from_the_process_copy_and_a_change_reaches_it(
    agency_a, django_capture_on_commit_callbacks
) -> None:
    """Every agency page renders the branding: after the first, the process's own copy serves
    it (no cache round trip, no query), and branding_update reaches it at once here and within
    the generation check (a second) in any other process."""
    from django.core.cache import cache
    from django.db import connection as db_connection
    from django.test.utils import CaptureQueriesContext

    from portal.branding import CACHE_KEY, _LocalBrandings, local_brandings
    from portal.models import Branding

    with agency_context(agency_a), django_capture_on_commit_callbacks(execute=True):
        branding_update(display_name="UBND Phường A")
    client = Client(HTTP_HOST="phuong-a.localhost")
    client.cookies["messages"] = "x"  # not served from the page cache
    assert "UBND Phường A" in client.get("/thu-tuc/").text
    another_process = _LocalBrandings()
    with agency_context(agency_a):
        assert another_process.get(agency_a.schema_name) is None  # its first look: syncs
        another_process.keep(agency_a.schema_name, current_branding())
        # Gone from the shared cache and changed behind its back: the copy still answers,
        # without asking Redis or the database.
        cache.delete(CACHE_KEY)
        Branding.objects.filter(pk=1).update(display_name="Không đọc")
        with CaptureQueriesContext(db_connection) as queries:
            assert current_branding().display_name == "UBND Phường A"
        assert len(queries) == 0 and cache.get(CACHE_KEY) is None
        with django_capture_on_commit_callbacks(execute=True):
            branding_update(display_name="UBND Phường A mới")
    assert "UBND Phường A mới" in client.get("/thu-tuc/").text  # this process: at once
    with agency_context(agency_a):
        assert another_process.get(agency_a.schema_name) is not None  # checked < 1 s ago
        another_process._checked_at -= _LocalBrandings.CHECK_SECONDS  # a second later
        assert another_process.get(agency_a.schema_name) is None
    assert local_brandings.get(agency_a.schema_name) is not None
