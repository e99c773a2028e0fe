"""Test-suite wiring: every fixture module in tests/fixtures is a pytest plugin."""

import os

# Playwright's sync API runs an event loop in the test thread; Django's guard
# against ORM calls from async code would otherwise trip in browser tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.fixtures.parts",  # first: other fixture modules import it
    "tests.fixtures.database",
    "tests.fixtures.clusters",
    "tests.fixtures.http",
    "tests.fixtures.worker",
    "tests.fixtures.browser",
    "tests.fixtures.i18n",
    "tests.fixtures.stripe",
    "tests.fixtures.sms",
    "tests.fixtures.mfa",
    "tests.fixtures.s3",
    "tests.fixtures.axe",
    "tests.fixtures.vneid",
    "tests.fixtures.national_payment",
    "tests.fixtures.lifecycle",
    "tests.fixtures.signing",
]
