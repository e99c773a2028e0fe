"""Fakes of the billing rails that live outside: the e-invoice provider (with the tax
authority behind it), the bank (its webhook and statement exports), and a throwaway certificate
authority for the provider's signing certificate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.bank import FakeBank
from tests.fakes.certificates import SigningIdentity, signing_identity
from tests.fakes.einvoice_provider import FakeEInvoiceProvider

PROVIDER_TOKEN = "tvan-test-token-0123456789"
BANK_SECRET = "bank-webhook-secret-0123456789"


@pytest.fixture(scope="session")
def signing_ca(tmp_path_factory: pytest.TempPathFactory) -> SigningIdentity:
    return signing_identity(tmp_path_factory.mktemp("einvoice-ca"))


@pytest.fixture(scope="session")
def einvoice_server(signing_ca: SigningIdentity) -> Iterator[FakeEInvoiceProvider]:
    fake = FakeEInvoiceProvider(token=PROVIDER_TOKEN, ca_pem_file=signing_ca.ca_pem_path)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def signing(settings: Any, signing_ca: SigningIdentity) -> SigningIdentity:
    """The provider's signing certificate, configured as in production (file path + password)."""
    settings.EINVOICE_SIGNING_P12 = str(signing_ca.p12_path)
    settings.EINVOICE_SIGNING_PASSWORD = signing_ca.password
    return signing_ca


@pytest.fixture
def einvoice_provider(
    settings: Any, signing: SigningIdentity, einvoice_server: FakeEInvoiceProvider
) -> Iterator[FakeEInvoiceProvider]:
    einvoice_server.reset()
    settings.EINVOICE_PROVIDER = "tvan"
    settings.EINVOICE_PROVIDER_URL = einvoice_server.url
    settings.EINVOICE_PROVIDER_TOKEN = PROVIDER_TOKEN
    yield einvoice_server
    einvoice_server.reset()


@pytest.fixture
def bank(settings: Any, live_server: Any) -> FakeBank:
    """The provider's bank, notifying the live server's webhook."""
    settings.BANK_WEBHOOK_SECRET = BANK_SECRET
    return FakeBank(
        account_number=settings.BILLING_SELLER["bank_account"],
        secret=BANK_SECRET,
        webhook_url=f"{live_server.url}/billing/bank/webhook/",
        host="localhost",
    )


@pytest.fixture
def other_ca(tmp_path: Path) -> SigningIdentity:
    """A certificate issued by a CA the tax authority does not trust."""
    return signing_identity(tmp_path / "other")
