"""The fake national portal (tests/fakes/national_portal.py) for one test module at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reports.tests.conftest import staff, submit  # noqa: F401 - shared fixtures
from tests.fakes.national_portal import FakeNationalPortal

TOKEN = "np_test_token_0123456789"


@pytest.fixture(scope="session")
def portal_server() -> Iterator[FakeNationalPortal]:
    fake = FakeNationalPortal(token=TOKEN)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def portal(portal_server: FakeNationalPortal, settings: Any) -> Iterator[FakeNationalPortal]:
    settings.NATIONAL_PORTAL_URL = portal_server.url
    settings.NATIONAL_PORTAL_TOKEN = TOKEN
    portal_server.reset()
    yield portal_server
    portal_server.reset()
