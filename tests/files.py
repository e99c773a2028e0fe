"""Real files of real types for tests (and one that lies about its type)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def pdf(name: str = "to-khai.pdf", size: int = 0) -> SimpleUploadedFile:
    body = PDF + b"%" + b"0" * max(0, size - len(PDF) - 1) if size else PDF
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def png(name: str = "anh.png", side: int = 20) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (side, side), "red").save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def exe(name: str = "giay-to.pdf") -> SimpleUploadedFile:
    """A Windows executable wearing a .pdf name."""
    return SimpleUploadedFile(
        name, b"MZ\x90\x00\x03" + b"\x00" * 200, content_type="application/pdf"
    )
