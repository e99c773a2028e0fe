"""The fake national portal (tests/fakes/national_portal.py).

Like the fake SMS provider: its port is chosen at start-up and put into the environment, so
the Celery worker (tests/fixtures/worker.py, started later) pushes to it, with one-second
retries; in this process the portal is configured only for the tests that ask for it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from reports.tests.conftest import staff, submit  # noqa: F401 - shared fixtures
from tests.fakes.national_portal import FakeNationalPortal

TOKEN = "np_test_token_0123456789"
_PORT = 0


def pytest_configure(config: pytest.Config) -> None:
    global _PORT
    from django.conf import settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        _PORT = int(sock.getsockname()[1])
    os.environ["NATIONAL_PORTAL_URL"] = f"http://127.0.0.1:{_PORT}"
    os.environ["NATIONAL_PORTAL_TOKEN"] = TOKEN
    os.environ["NATIONAL_PORTAL_RETRY_SECONDS"] = "1"
    # Other tests' status changes must not be pushed from this process.
    settings.NATIONAL_PORTAL_URL = ""
    settings.NATIONAL_PORTAL_RETRY_SECONDS = 30


@pytest.fixture(scope="session")
def portal_server() -> Iterator[FakeNationalPortal]:
    fake = FakeNationalPortal(token=TOKEN, port=_PORT)
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
