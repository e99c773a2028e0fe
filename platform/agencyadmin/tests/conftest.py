"""Admin-page fixtures: an admin of the commune (xa-an-binh) and clients on its host."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from accounts.services import membership_grant
from tests.fixtures.mfa import mfa_login

HOST = "xa-an-binh.localhost"


@pytest.fixture
def admin_user(commune: Any) -> User:
    user = User.objects.create_user(
        "quantri@anbinh.gov.vn", "mat-khau-quan-tri-1", full_name="Lê Văn Quản"
    )
    membership_grant(user=user, agency=commune, roles=["admin"])
    return user


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client(HTTP_HOST=HOST)
    mfa_login(client, admin_user)
    return client
