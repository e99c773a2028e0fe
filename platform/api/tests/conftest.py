"""API test helpers: keys, clients on an agency host, multipart submissions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from api.services import api_key_issue
from tenants.context import agency_context
from tenants.models import Agency

HOST = "xa-an-binh.localhost"
ALL_SCOPES = ["procedures:read", "dossiers:read", "dossiers:write", "inbound"]
BIRTH_FORM = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Trạm y tế xã",
}
APPLICANT = {
    "name": "Nguyễn Văn A",
    "id_number": "031095001234",
    "phone": "0912345678",
    "email": "nguyenvana@example.vn",
    "address": "Xã An Bình",
}


def issue(agency: Agency, scopes: list[str] | None = None, **kwargs: Any) -> str:
    with agency_context(agency):
        return api_key_issue(name="Hệ thống thử", scopes=scopes or ALL_SCOPES, **kwargs).secret


def api_client(secret: str | None, host: str = HOST, **headers: str) -> Client:
    extra: dict[str, Any] = {"HTTP_HOST": host, **headers}
    if secret is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return Client(**extra)


def submission(data: dict[str, Any] | str, **files: Any) -> dict[str, Any]:
    return {"data": data if isinstance(data, str) else json.dumps(data), **files}


@pytest.fixture
def key(commune: Agency) -> str:
    return issue(commune)


@pytest.fixture
def client(key: str) -> Client:
    return api_client(key)


KeyFactory = Callable[..., str]
