"""Maintain the translation catalogs: extract, compile (no gettext needed), merge JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.translations import (
    TranslationFileError,
    all_catalogs,
    apply_translations,
    compile_catalogs,
    extract_messages,
    load_translation_file,
)


class Command(BaseCommand):
    help = (
        "--extract updates the .po files (needs xgettext); --compile writes the .mo files; "
        '--apply FILE.json ... merges {"English msgid": "Vietnamese"} maps into the catalogs.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--extract", action="store_true")
        parser.add_argument("--compile", action="store_true")
        parser.add_argument("--apply", nargs="+", metavar="FILE.json", type=Path)
        parser.add_argument(
            "--force", action="store_true", help="with --apply: replace differing translations"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="with --apply: report, write nothing"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["extract"]:
            extract_messages(Path(settings.BASE_DIR))
            self.stdout.write("catalogs updated from the code")
        if opts["apply"]:
            self._apply(opts["apply"], force=opts["force"], dry_run=opts["dry_run"])
        elif opts["compile"] or not opts["extract"]:
            for path in compile_catalogs():
                self.stdout.write(f"compiled {path}")

    def _apply(self, files: list[Path], *, force: bool, dry_run: bool) -> None:
        try:
            mappings = [load_translation_file(path) for path in files]
        except TranslationFileError as exc:
            raise CommandError(str(exc)) from exc
        report = apply_translations(mappings, catalogs=all_catalogs(), force=force, dry_run=dry_run)
        for msgid in report.not_found:
            self.stderr.write(f"not in any catalog (extract first?): {msgid!r}")
        for c in report.conflicts:
            self.stderr.write(
                f"kept the existing translation of {c.msgid!r}: {c.existing!r} "
                f"(proposed {c.proposed!r}; --force to replace)"
            )
        for c in report.overwritten:
            self.stdout.write(f"replaced {c.msgid!r}: {c.existing!r} -> {c.proposed!r}")
        for problem in report.mismatched:
            self.stderr.write(f"refused: {problem}")
        if report.mismatched:
            raise CommandError("placeholders do not match; nothing was written")
        verb = "would apply" if dry_run else "applied"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {len(report.applied) + len(report.overwritten)} translation(s); "
                f"{len(report.unchanged)} already present, {len(report.conflicts)} conflict(s), "
                f"{len(report.not_found)} not found"
            )
        )
