"""Translation catalogs: compile .po to .mo without GNU gettext, and check completeness.

Message ids are English; Vietnamese (the default language) must translate every
one. The compiled .mo files are committed so a deployment needs no gettext.
"""

from __future__ import annotations

import gettext
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polib
from django.conf import settings

REQUIRED_LANGUAGES = ("vi",)


def catalog_paths(language: str) -> tuple[Path, Path]:
    folder = Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES"
    return folder / "django.po", folder / "django.mo"


def compile_catalogs() -> list[Path]:
    written = []
    for language in REQUIRED_LANGUAGES:
        po_path, mo_path = catalog_paths(language)
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


@dataclass
class TranslationReport:
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    stale_mo: list[str] = field(default_factory=list)
    not_extracted: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.untranslated or self.fuzzy or self.stale_mo or self.not_extracted)


def extract_messages(base_dir: Path) -> None:
    """Update the .po files from the code and templates (needs GNU xgettext)."""
    subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--no-location",
            "--no-obsolete",
            *[arg for lang in REQUIRED_LANGUAGES for arg in ("-l", lang)],
            "-i",
            ".venv/*",
            "-i",
            "var/*",
            "-i",
            "build/*",
            "-i",
            "typings/*",
        ],
        cwd=base_dir,
        check=True,
        capture_output=True,
    )


def _extracted_msgids(base_dir: Path, po_path: Path) -> set[str] | None:
    """The msgids makemessages would extract now; None without xgettext. Leaves .po as it was."""
    if shutil.which("xgettext") is None:
        return None
    with tempfile.TemporaryDirectory() as scratch:
        backup = Path(scratch) / "django.po"
        shutil.copy2(po_path, backup)
        try:
            extract_messages(base_dir)
            return {e.msgid for e in polib.pofile(str(po_path))}
        finally:
            shutil.copy2(backup, po_path)


def check_catalogs(base_dir: Path) -> TranslationReport:
    report = TranslationReport()
    for language in REQUIRED_LANGUAGES:
        po_path, mo_path = catalog_paths(language)
        po = polib.pofile(str(po_path))
        report.untranslated += [e.msgid for e in po.untranslated_entries()]
        report.fuzzy += [e.msgid for e in po.fuzzy_entries()]
        with mo_path.open("rb") as fh:
            compiled = gettext.GNUTranslations(fh)
        for entry in po.translated_entries():
            if entry.msgid_plural:
                continue
            key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
            if compiled._catalog.get(key) != entry.msgstr:  # type: ignore[attr-defined]
                report.stale_mo.append(entry.msgid)
        extracted = _extracted_msgids(base_dir, po_path)
        if extracted is not None:
            known = {e.msgid for e in po}
            report.not_extracted += sorted(extracted - known)
    return report
