"""Signing and desk fixtures, shared with the verification tests."""

from verification.tests.conftest import pki, plain_pdf, signed_pdf, staff, submit_shop

__all__ = ["pki", "plain_pdf", "signed_pdf", "staff", "submit_shop"]
