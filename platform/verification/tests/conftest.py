"""Signing fixtures: a throwaway CA under a temporary key root, the commune's organisation
certificate, an officer's own certificate, and an RFC 3161 timestamp server on loopback.
The desk's fixtures (staff, dossiers) are reused."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import override_settings

from desk.tests.conftest import staff, submit_shop
from documents import keys, sheets, signing
from documents.pdf import Sheet, sheet_pdf
from tenants.models import Agency
from tests.fakes.tsa_server import TimestampServer

__all__ = ["pki", "plain_pdf", "signed_pdf", "staff", "submit_shop"]


@pytest.fixture
def pki(tmp_path: Path, commune: Agency) -> Iterator[SimpleNamespace]:
    root = tmp_path / "signing"
    with override_settings(SIGNING_KEY_ROOT=root, SIGNING_TRUST_ROOTS=[]):
        ca = keys.authority_create(keys.ca_dir())
        keys.certificate_issue(ca, keys.ca_dir() / "tsa.p12", common_name="TSA", timestamping=True)
        keys.certificate_issue(
            ca,
            keys.organisation_path(commune.schema_name),
            common_name="UBND Xã An Bình",
            organisation="UBND Xã An Bình",
        )
        tsa = TimestampServer(keys.ca_dir() / "tsa.p12", keys.passphrase())
        tsa.start()
        try:
            with override_settings(SIGNING_TSA_URL=tsa.url):
                yield SimpleNamespace(ca=ca, tsa=tsa, root=root, schema=commune.schema_name)
        finally:
            tsa.stop()


def _plain(text: str = "Giấy chứng nhận đăng ký hộ kinh doanh") -> bytes:
    out = io.BytesIO()
    sheet_pdf(Sheet(agency="Xã An Bình", title="KẾT QUẢ", blocks=[text]), out, texts=sheets.texts())
    return out.getvalue()


@pytest.fixture
def plain_pdf() -> Callable[..., bytes]:
    return _plain


@pytest.fixture
def signed_pdf(pki: SimpleNamespace) -> Callable[..., bytes]:
    """A PDF signed with the commune's organisation certificate (timestamped)."""

    def make(text: str = "Giấy chứng nhận đăng ký hộ kinh doanh") -> bytes:
        return signing.pdf_sign(
            _plain(text), signing.organisation_signer(pki.schema), field_name="Agency"
        )

    return make
