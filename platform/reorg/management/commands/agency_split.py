"""Split procedures of an agency (with their dossiers and chosen staff) off into another
agency, existing (``--into``) or new (``--new-slug``/``--new-name``); ``--dry-run``: the plan.

Run again with the same arguments to finish a split that was interrupted (kill -9 included).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from reorg import selectors, services, splits
from reorg.models import MergeStatus, Split


class Command(BaseCommand):
    help = "Move --procedure(s) of SOURCE, their dossiers and --staff, to --into or a new agency."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", nargs="?", default="", help="slug of the agency split")
        parser.add_argument("--into", default="", help="slug of an existing agency receiving")
        parser.add_argument("--new-slug", default="", help="address of a new agency receiving")
        parser.add_argument("--new-name", default="", help="name of the new agency")
        parser.add_argument("--new-code", default="", help="code of the new agency")
        parser.add_argument(
            "--procedure", action="append", default=[], metavar="CODE", help="a procedure moving"
        )
        parser.add_argument(
            "--staff", action="append", default=[], metavar="EMAIL", help="a staff member moving"
        )
        parser.add_argument("--effective", default="", help="date it takes effect (YYYY-MM-DD)")
        parser.add_argument(
            "--choose",
            action="append",
            default=[],
            metavar="CODE=SLUG",
            help="for a procedure both have, whose settings win (default: the target's)",
        )
        parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
        parser.add_argument("--verify", type=int, metavar="SPLIT_ID", help="verify a split again")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["verify"]:
                self._verify(options["verify"], as_json=options["json"])
                return
            split = self._split(options)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except services.MergeBusy as exc:
            raise CommandError(str(exc)) from exc
        if split is None:
            return
        self.stdout.write(f"split {split.pk}: {split.status}")
        self._print_verification(split, as_json=options["json"])

    def _split(self, options: dict[str, Any]) -> Split | None:
        if not options["source"] or not options["procedure"]:
            raise CommandError("Name the agency to split and at least one --procedure.")
        if bool(options["into"]) == bool(options["new_slug"]):
            raise CommandError("Give either --into (an existing agency) or --new-slug.")
        try:
            effective = dt.date.fromisoformat(options["effective"])
        except ValueError as exc:
            raise CommandError("--effective must be a date, YYYY-MM-DD.") from exc
        choices: dict[str, str] = {}
        for item in options["choose"]:
            code, sep, slug = item.partition("=")
            if not sep or not code.strip() or not slug.strip():
                raise CommandError(f"--choose {item!r}: write CODE=SLUG.")
            choices[code.strip()] = slug.strip()
        (source,) = services.agencies_by_slug([options["source"]])
        target_slug = options["into"] or options["new_slug"]
        split = selectors.split_of(
            source=source, target_slug=target_slug, procedures=options["procedure"]
        )
        if split is not None and split.status == MergeStatus.FINISHED:
            self.stdout.write(f"split {split.pk} has already finished")
            return split
        if split is None:
            target = services.agencies_by_slug([options["into"]])[0] if options["into"] else None
            new = (
                None
                if target is not None
                else {
                    "slug": options["new_slug"],
                    "name": options["new_name"],
                    "code": options["new_code"],
                }
            )
            args: dict[str, Any] = {
                "source": source,
                "target": target,
                "procedures": options["procedure"],
                "staff": options["staff"],
                "effective_on": effective,
                "choices": choices,
                "new_target": new,
            }
            if options["dry_run"]:
                self._print_plan(splits.split_plan(**args), as_json=options["json"])
                return None
            split = splits.split_create(**args, actor_email="command")
            self.stdout.write(f"split {split.pk} created")
        elif options["dry_run"]:
            self._print_plan(split.plan, as_json=options["json"])
            return None
        else:
            self.stdout.write(f"split {split.pk}: resuming after step {split.step or '-'}")
        return splits.split_run(split, progress=lambda p, s: self.stdout.write(f"  {p:3d}% {s}"))

    def _verify(self, pk: int, *, as_json: bool) -> None:
        split = Split.objects.filter(pk=pk).first()
        if split is None:
            raise CommandError(f"No split {pk}.")
        splits.split_verify(split)
        split.refresh_from_db()
        self._print_verification(split, as_json=as_json)
        if not split.verification.get("ok"):
            raise CommandError("verification found differences")

    def _print_plan(self, plan: dict[str, Any], *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(plan, indent=2, ensure_ascii=False, default=str))
            return
        w = self.stdout.write
        target = plan["target"]
        w(
            f"split {plan['source']['slug']} into {target['slug']}"
            f"{' (new)' if target['new'] else ''} effective {plan['effective_on']}"
        )
        w("procedures moving: " + ", ".join(p["code"] for p in plan["procedures"]))
        w(f"dossiers moving by status: {plan['dossiers']}; staying: {plan['dossiers_staying']}")
        w(f"files: {plan['files']}")
        for table, rows in plan["rows"].items():
            w(f"    {table}: {rows} rows")
        for s in plan["staff"]:
            w(f"staff moving: {s['email']} {s['roles']}")
        clashes = plan["clashes"]
        for entry in clashes["procedures"]:
            w(f"clash: procedure {entry['code']} (winner: {entry['winner']})")
            for key in entry["differs"]:
                sides = ", ".join(f"{s}={v[key]}" for s, v in entry["sources"].items())
                w(f"    {key}: target={entry['target'][key]} {sides}")
        for entry in clashes["dossier_codes"]:
            w(f"clash: dossier code {entry['code']} gets a suffix")
        for table, n in clashes["mixed_rows"].items():
            w(f"BLOCKING: {n} rows of {table} belong to a moving and a staying procedure")
        for email in clashes["held_by_staff_staying"]:
            w(f"warning: {email} stays but holds dossiers that move")

    def _print_verification(self, split: Split, *, as_json: bool) -> None:
        result = split.verification
        if as_json:
            self.stdout.write(json.dumps(result, indent=2))
            return
        for table, row in result.get("tables", {}).items():
            if "error" in row:
                self.stdout.write(f"  {table:40} {row['error']}")
                continue
            mark = "ok" if row["ok"] else "DIFFERS"
            self.stdout.write(
                f"  {table:40} {row['source_rows']:>8} {row['target_rows']:>8} "
                f"{row['target_sha256'][:16]} {mark}"
            )
        self.stdout.write("verified: " + ("ok" if result.get("ok") else "NOT OK"))
