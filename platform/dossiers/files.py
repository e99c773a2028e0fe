"""Uploaded files: type sniffed from the content (never the name), size and count limits,
safe stored names. Everything here refuses with a message a citizen can act on."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

# Sniffed type → (extension we store under, label shown to citizens)
ALLOWED_TYPES: dict[str, tuple[str, str]] = {
    "application/pdf": ("pdf", "PDF"),
    "image/jpeg": ("jpg", "JPEG"),
    "image/png": ("png", "PNG"),
    "image/webp": ("webp", "WEBP"),
    "image/tiff": ("tif", "TIFF"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx", "DOCX"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx", "XLSX"),
    "application/vnd.oasis.opendocument.text": ("odt", "ODT"),
}


def max_file_bytes() -> int:
    return int(getattr(settings, "DOSSIER_MAX_FILE_BYTES", 10 * 1024 * 1024))


def max_total_bytes() -> int:
    return int(getattr(settings, "DOSSIER_MAX_TOTAL_BYTES", 50 * 1024 * 1024))


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    content_type: str
    extension: str
    original_name: str
    size: int
    sha256: str

    def stored_name(self) -> str:
        return f"{uuid.uuid4().hex}.{self.extension}"


def safe_display_name(name: str) -> str:
    """The citizen's file name without any path, trimmed to something printable."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().strip(".")
    cleaned = get_valid_filename(base) if base else ""
    return (cleaned or "tep-tin")[:150]


def _head(stream: IO[bytes] | Any, size: int = 8192) -> bytes:
    stream.seek(0)
    head = stream.read(size)
    stream.seek(0)
    return bytes(head)


def check_file(upload: UploadedFile, *, component: str) -> CheckedFile:
    name = safe_display_name(upload.name or "")
    size = int(upload.size or 0)
    if size == 0:
        raise ValidationError(
            _("“%(file)s” (%(component)s) is empty.") % {"file": name, "component": component}
        )
    if size > max_file_bytes():
        raise ValidationError(
            _("“%(file)s” (%(component)s) is %(size)s; the limit is %(limit)s per file.")
            % {
                "file": name,
                "component": component,
                "size": filesizeformat(size),
                "limit": filesizeformat(max_file_bytes()),
            }
        )
    kind = filetype.guess(_head(upload))
    mime = kind.mime if kind else ""
    if mime not in ALLOWED_TYPES:
        allowed = ", ".join(label for _ext, label in ALLOWED_TYPES.values())
        raise ValidationError(
            _(
                "“%(file)s” (%(component)s) is not an accepted document: its content is not "
                "one of %(allowed)s, whatever its name says."
            )
            % {"file": name, "component": component, "allowed": allowed}
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    extension = ALLOWED_TYPES[mime][0]
    return CheckedFile(upload, mime, extension, name, size, digest.hexdigest())


def check_total(files: list[CheckedFile]) -> None:
    total = sum(f.size for f in files)
    if total > max_total_bytes():
        raise ValidationError(
            _("The documents add up to %(size)s; a dossier may hold at most %(limit)s.")
            % {"size": filesizeformat(total), "limit": filesizeformat(max_total_bytes())}
        )


logger = logging.getLogger(__name__)


def files_delete(names: Iterable[str]) -> None:
    """Remove stored files after a rollback or a deletion; best effort (an orphan is harmless)."""
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # pragma: no cover
            logger.warning("could not delete %s", name)
