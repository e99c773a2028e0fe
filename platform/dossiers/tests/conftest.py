"""Dossier tests use the shared files (tests/files.py) and fixtures (tests/fixtures)."""

from tests.files import exe, pdf, png

__all__ = ["exe", "pdf", "png"]
