"""The portal as a newcomer meets it: Vietnamese first, English on request (remembered), the
catalog in English where it has English, same-day procedures said so, and form errors
summed up with a link to each field."""

from __future__ import annotations

import re

import pytest
from django.test import Client

HOST = "xa-an-binh.localhost"


def english_client() -> Client:
    client = Client(HTTP_HOST=HOST)
    client.cookies["django_language"] = "en"
    return client


@pytest.mark.django_db
def test_a_browser_set_to_english_still_gets_vietnamese_on_its_first_visit(commune) -> None:
    first = Client(HTTP_HOST=HOST, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/thu-tuc/")
    assert '<html lang="vi">' in first.text
    assert "Thủ tục hành chính" in first.text and "Administrative procedures" not in first.text
    assert first["Content-Language"] == "vi"


@pytest.mark.django_db
def test_english_once_chosen_is_remembered(commune) -> None:
    client = Client(HTTP_HOST=HOST, HTTP_ACCEPT_LANGUAGE="vi")
    choice = client.get("/ngon-ngu/en/", {"next": "/"})
    assert choice.cookies["django_language"]["max-age"] >= 30 * 24 * 3600  # kept a long time
    for path in ("/", "/thu-tuc/", "/tra-cuu/"):
        page = client.get(path)
        assert '<html lang="en">' in page.text, path
    client.get("/ngon-ngu/vi/", {"next": "/"})
    assert '<html lang="vi">' in client.get("/thu-tuc/").text


@pytest.mark.django_db
def test_the_api_still_answers_in_the_language_its_client_asks_for(commune) -> None:
    english = Client(HTTP_HOST=HOST, HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/procedures/XX-0")
    vietnamese = Client(HTTP_HOST=HOST).get("/api/v1/procedures/XX-0")
    assert english["Content-Language"] == "en"
    assert vietnamese["Content-Language"] == "vi"


@pytest.mark.django_db
def test_same_day_procedures_say_so_instead_of_zero_working_days(commune) -> None:
    client = Client(HTTP_HOST=HOST)
    listing = client.get("/thu-tuc/", {"q": "khai sinh"}).text
    detail = client.get("/thu-tuc/S-HT-001/").text  # processing_days 0
    shop = client.get("/thu-tuc/S-KD-001/").text  # 3 working days
    for page in (listing, detail):
        assert "Giải quyết trong ngày" in page
        assert "0 ngày làm việc" not in page
    assert "3 ngày làm việc" in shop
    english = english_client().get("/thu-tuc/S-HT-001/").text
    assert "Settled the same working day" in english and "0 working days" not in english


@pytest.mark.django_db
def test_in_english_catalog_data_is_english_where_it_can_be_and_marked_vietnamese_elsewhere(
    commune,
) -> None:
    page = english_client().get("/thu-tuc/S-HT-001/").text
    assert "<h1>Birth registration</h1>" in page  # the catalog's English name
    assert "<h1>Đăng ký khai sinh</h1>" not in page
    # The sector and the components exist in Vietnamese only: marked for people and readers.
    assert re.search(r'<span lang="vi">Hộ tịch</span> <span class="lang-mark"[^>]*>VI</span>', page)
    assert '<span lang="vi">Giấy chứng sinh</span>' in page
    assert "in Vietnamese" in page
    # In Vietnamese, nothing is marked.
    vietnamese = Client(HTTP_HOST=HOST).get("/thu-tuc/S-HT-001/").text
    assert "lang-mark" not in vietnamese and 'lang="vi"><' not in vietnamese
    assert "<h1>Đăng ký khai sinh</h1>" in vietnamese


@pytest.mark.django_db
def test_the_error_summary_links_to_each_field_in_error(commune) -> None:
    page = Client(HTTP_HOST=HOST).post("/tra-cuu/", {"code": "", "secret": ""}).text
    summary = re.search(r'<div class="error-summary"[^>]*data-error-summary.*?</div>', page, re.S)
    assert summary is not None
    assert 'tabindex="-1"' in summary.group(0)  # it can take the focus (static/js/app.js)
    for field in ("code", "secret"):
        assert f'href="#id_{field}"' in summary.group(0)
        # The field says what is wrong, and its input points at the message.
        assert f'id="id_{field}-error"' in page
        widget = re.search(rf'<input[^>]*id="id_{field}"[^>]*>', page)
        assert widget is not None
        assert f'aria-describedby="id_{field}-error"' in widget.group(0)
        assert 'aria-invalid="true"' in widget.group(0)
