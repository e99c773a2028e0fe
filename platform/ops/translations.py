"""Translation catalogs: extract, compile .po to .mo without GNU gettext, check, merge.

Message ids are English; Vietnamese (the default language) must translate every
one. The compiled .mo files are committed so a deployment needs no gettext.

Two catalogs are maintained:
- the project catalog (``locale/``), extracted from our code and templates;
- the ``localization`` app's catalog, Vietnamese for django-allauth (which ships
  none). It is not extracted from our code: its msgids are allauth's, and the
  check compares them with the English catalog the installed allauth ships.
"""

from __future__ import annotations

import gettext
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings

REQUIRED_LANGUAGES = ("vi",)

# allauth's own sources whose messages our pages show (account pages, e-mails and
# messages, two-factor authentication); social login, passkeys, phone numbers, login
# codes, sessions, the identity provider and the headless API are not used here.
ALLAUTH_SCOPE = ("account/", "mfa/", "templates/account/", "templates/mfa/", "templates/allauth/")
ALLAUTH_OUT_OF_SCOPE = (
    "webauthn",
    "phone",
    "login_code",
    "signup_by_passkey",
    "trust",
    "mfa/base_entrance",
    "account/models.py",
)


@dataclass(frozen=True)
class Catalog:
    """One gettext catalog of ours for one language."""

    name: str
    locale_dir: Path
    language: str

    @property
    def po_path(self) -> Path:
        return self.locale_dir / self.language / "LC_MESSAGES" / "django.po"

    @property
    def mo_path(self) -> Path:
        return self.locale_dir / self.language / "LC_MESSAGES" / "django.mo"


def project_catalogs() -> list[Catalog]:
    return [Catalog("project", Path(settings.LOCALE_PATHS[0]), lang) for lang in REQUIRED_LANGUAGES]


def allauth_catalogs() -> list[Catalog]:
    folder = Path(apps.get_app_config("localization").path) / "locale"
    return [Catalog("allauth", folder, lang) for lang in REQUIRED_LANGUAGES]


def all_catalogs() -> list[Catalog]:
    return project_catalogs() + allauth_catalogs()


def catalog_paths(language: str) -> tuple[Path, Path]:
    """The project catalog's .po and .mo for one language."""
    catalog = Catalog("project", Path(settings.LOCALE_PATHS[0]), language)
    return catalog.po_path, catalog.mo_path


def compile_catalogs() -> list[Path]:
    written = []
    for catalog in all_catalogs():
        polib.pofile(str(catalog.po_path)).save_as_mofile(str(catalog.mo_path))
        written.append(catalog.mo_path)
    return written


@dataclass
class TranslationReport:
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    stale_mo: list[str] = field(default_factory=list)
    not_extracted: list[str] = field(default_factory=list)
    # allauth catalog: allauth messages in scope we do not translate / no longer in allauth
    allauth_missing: list[str] = field(default_factory=list)
    allauth_obsolete: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.untranslated
            or self.fuzzy
            or self.stale_mo
            or self.not_extracted
            or self.allauth_missing
            or self.allauth_obsolete
        )


def extract_messages(base_dir: Path) -> None:
    """Update the project .po files from the code and templates (needs GNU xgettext)."""
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
            # its catalog holds allauth's msgids, not ours: makemessages must not touch it
            "-i",
            "platform/localization",
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


def _entry_key(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid


def _check_one(catalog: Catalog, report: TranslationReport) -> polib.POFile:
    po = polib.pofile(str(catalog.po_path))
    prefix = "" if catalog.name == "project" else f"[{catalog.name}] "
    report.untranslated += [prefix + e.msgid for e in po.untranslated_entries()]
    report.fuzzy += [prefix + e.msgid for e in po.fuzzy_entries()]
    with catalog.mo_path.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    mo_catalog: dict[object, str] = compiled._catalog  # type: ignore[attr-defined]
    for entry in po.translated_entries():
        key = _entry_key(entry)
        if entry.msgid_plural:
            stale = any(mo_catalog.get((key, int(n))) != s for n, s in entry.msgstr_plural.items())
        else:
            stale = mo_catalog.get(key) != entry.msgstr
        if stale:
            report.stale_mo.append(prefix + entry.msgid)
    return po


def allauth_msgids() -> set[str] | None:
    """The msgids of the installed allauth that our pages can show; None if it ships no catalog.

    allauth ships an English catalog with source locations; that is the one thing
    of its internals relied on here.
    """
    import allauth

    en_po = Path(allauth.__file__).parent / "locale" / "en" / "LC_MESSAGES" / "django.po"
    if not en_po.exists():
        return None
    wanted = set()
    for entry in polib.pofile(str(en_po)):
        places = [path for path, _line in entry.occurrences]
        if any(
            path.startswith(ALLAUTH_SCOPE) and not any(x in path for x in ALLAUTH_OUT_OF_SCOPE)
            for path in places
        ):
            wanted.add(_entry_key(entry))
    return wanted


def check_catalogs(base_dir: Path) -> TranslationReport:
    report = TranslationReport()
    for catalog in project_catalogs():
        po = _check_one(catalog, report)
        extracted = _extracted_msgids(base_dir, catalog.po_path)
        if extracted is not None:
            known = {e.msgid for e in po}
            report.not_extracted += sorted(extracted - known)
    wanted = allauth_msgids()
    for catalog in allauth_catalogs():
        po = _check_one(catalog, report)
        if wanted is not None:
            ours = {_entry_key(e) for e in po}
            report.allauth_missing += sorted(wanted - ours)
            report.allauth_obsolete += sorted(ours - wanted)
    return report


# -- merging translations contributed as JSON ---------------------------------------------

# %(name)s, %s, %d, %.1f ... (not %%), and str.format / blocktranslate-free {x} fields.
_PLACEHOLDER = re.compile(
    r"%\(\w+\)[-#0+]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|%(?!%)[-#0+]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|\{[^{}\s]*\}"
)


def placeholders(text: str) -> Counter[str]:
    return Counter(_PLACEHOLDER.findall(text.replace("%%", "")))


@dataclass
class Conflict:
    msgid: str
    existing: str
    proposed: str


@dataclass
class ApplyReport:
    applied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    overwritten: list[Conflict] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)  # "msgid: why", refused


class TranslationFileError(ValueError):
    """A contributed translation file is not a flat {"msgid": "translation"} JSON object."""


def load_translation_file(path: Path) -> dict[str, str | list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TranslationFileError(f"{path}: cannot read it as JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise TranslationFileError(f"{path}: expected an object {{msgid: translation}}")
    for key, value in data.items():
        ok = isinstance(value, str) or (
            isinstance(value, list) and value and all(isinstance(v, str) for v in value)
        )
        if not ok:
            raise TranslationFileError(
                f"{path}: the translation of {key!r} must be a string (or a list of plural forms)"
            )
    return data


def _placeholder_problem(entry: polib.POEntry, forms: list[str]) -> str | None:
    sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
    allowed = [placeholders(s) for s in sources]
    for form in forms:
        if not form.strip():
            return "the translation is empty"
        found = placeholders(form)
        if found not in allowed:
            want = " ".join(sorted(allowed[-1].elements())) or "none"
            got = " ".join(sorted(found.elements())) or "none"
            return f"placeholders differ: the msgid has {want}, the translation {got}"
    return None


def _current_forms(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[n] for n in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def _set_forms(entry: polib.POEntry, forms: list[str], nplurals: int) -> None:
    if entry.msgid_plural:
        # a single form (Vietnamese has one) serves every plural slot
        entry.msgstr_plural = {n: forms[min(n, len(forms) - 1)] for n in range(nplurals)}
    else:
        entry.msgstr = forms[0]
    if "fuzzy" in entry.flags:
        entry.flags.remove("fuzzy")
    entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None


def _nplurals(po: polib.POFile) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", po.metadata.get("Plural-Forms", ""))
    return int(match.group(1)) if match else 2


def apply_translations(
    mappings: Iterable[Mapping[str, str | list[str]]],
    *,
    catalogs: list[Catalog],
    force: bool = False,
    dry_run: bool = False,
) -> ApplyReport:
    """Merge {"msgid": "translation"} maps into the catalogs, then recompile them.

    A key "context\\x04msgid" addresses a msgid with a context. Entries that are
    untranslated or fuzzy take the translation (fuzzy is cleared); an entry already
    translated differently is a conflict and keeps its text unless ``force``.
    Placeholders must match the msgid: if any translation gets them wrong,
    nothing is written at all.
    """
    report = ApplyReport()
    # GNU gettext wraps at 79 columns: the same keeps `--extract` from rewrapping everything
    files = [(c, polib.pofile(str(c.po_path), wrapwidth=79)) for c in catalogs]
    index: dict[str, list[tuple[polib.POFile, polib.POEntry]]] = {}
    changed: set[int] = set()
    for _catalog, po in files:
        for entry in po:
            if not entry.obsolete:
                index.setdefault(_entry_key(entry), []).append((po, entry))
    for mapping in mappings:
        for key, value in mapping.items():
            forms = [value] if isinstance(value, str) else list(value)
            targets = index.get(key)
            if not targets:
                report.not_found.append(key)
                continue
            for po, entry in targets:
                problem = _placeholder_problem(entry, forms)
                if problem:
                    report.mismatched.append(f"{key}: {problem}")
                    continue
                settled = entry.translated() and "fuzzy" not in entry.flags
                current = _current_forms(entry)
                if settled and current[: len(forms)] == forms:
                    report.unchanged.append(key)
                elif settled and not force:
                    report.conflicts.append(Conflict(key, current[0], forms[0]))
                else:
                    if settled:
                        report.overwritten.append(Conflict(key, current[0], forms[0]))
                    else:
                        report.applied.append(key)
                    _set_forms(entry, forms, _nplurals(po))
                    changed.add(id(po))
    if dry_run or report.mismatched:
        return report
    for catalog, po in files:
        if id(po) in changed:  # an untouched catalog keeps its bytes (and gettext's wrapping)
            po.save(str(catalog.po_path))
            po.save_as_mofile(str(catalog.mo_path))
    return report
