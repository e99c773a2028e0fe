"""Merge agencies into another, effective on a date (``--dry-run``: the plan only).

Run again with the same arguments to finish a merge that was interrupted (kill -9 included).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from reorg import selectors, services
from reorg.models import Merge, MergeStatus
from tenants.models import Agency


class Command(BaseCommand):
    help = "Merge the given agencies (slugs) into --into, effective on --effective."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sources", nargs="*", help="slugs of the agencies merged away")
        parser.add_argument("--into", default="", help="slug of the agency they merge into")
        parser.add_argument("--new-slug", default="", help="or: address of a new agency")
        parser.add_argument("--new-name", default="", help="name of the new agency")
        parser.add_argument("--new-code", default="", help="code of the new agency")
        parser.add_argument("--effective", default="", help="date it takes effect (YYYY-MM-DD)")
        parser.add_argument(
            "--choose",
            action="append",
            default=[],
            metavar="CODE=SLUG",
            help="for a clashing procedure, whose settings win (default: the target's)",
        )
        parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
        parser.add_argument("--verify", type=int, metavar="MERGE_ID", help="verify a merge again")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["verify"]:
                self._verify(options["verify"], as_json=options["json"])
                return
            if not options["sources"] or bool(options["into"]) == bool(options["new_slug"]):
                raise CommandError(
                    "Name the agencies to merge and --into the target agency (or --new-slug)."
                )
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
            sources = services.agencies_by_slug(options["sources"])
            new = None
            target: Agency | None
            if options["into"]:
                (target,) = services.agencies_by_slug([options["into"]])
            else:  # a new agency: created by the first run, found by the next
                target = Agency.objects.filter(slug=options["new_slug"].strip()).first()
                new = {
                    "slug": options["new_slug"],
                    "name": options["new_name"],
                    "code": options["new_code"],
                }
            merge = (
                selectors.merge_of(sources=sources, target=target) if target is not None else None
            )
            if merge is not None and merge.status == MergeStatus.FINISHED:
                self.stdout.write(f"merge {merge.pk} has already finished")
                self._print_verification(merge, as_json=options["json"])
                return
            if options["dry_run"]:
                plan = (
                    merge.plan
                    if merge
                    else services.merge_plan(
                        sources=sources,
                        target=target,
                        effective_on=effective,
                        choices=choices,
                        new_target=new,
                    )
                )
                self._print_plan(plan, as_json=options["json"])
                return
            if merge is None:
                merge = services.merge_create(
                    sources=sources,
                    target=target,
                    effective_on=effective,
                    choices=choices,
                    actor_email="command",
                    new_target=new if target is None else None,
                )
                self.stdout.write(f"merge {merge.pk} created")
            else:
                self.stdout.write(f"merge {merge.pk}: resuming after step {merge.step or '-'}")
            merge = services.merge_run(
                merge, progress=lambda p, s: self.stdout.write(f"  {p:3d}% {s}")
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except services.MergeBusy as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"merge {merge.pk}: {merge.status}")
        self._print_verification(merge, as_json=options["json"])

    def _verify(self, pk: int, *, as_json: bool) -> None:
        merge = Merge.objects.filter(pk=pk).first()
        if merge is None:
            raise CommandError(f"No merge {pk}.")
        services.merge_verify(merge)
        merge.refresh_from_db()
        self._print_verification(merge, as_json=as_json)
        if not merge.verification.get("ok"):
            raise CommandError("verification found differences")

    def _print_plan(self, plan: dict[str, Any], *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(plan, indent=2, ensure_ascii=False, default=str))
            return
        w = self.stdout.write
        w(f"merge into {plan['target']['slug']} effective {plan['effective_on']}")
        for source in plan["sources"]:
            w(f"- {source['slug']}: {source['staff']} staff, {source['files']} files")
            w(f"    dossiers by status: {source['dossiers']}")
            for table, rows in source["rows"].items():
                if rows:
                    w(f"    {table}: {rows} rows")
        clashes = plan["clashes"]
        for entry in clashes["procedures"]:
            w(f"clash: procedure {entry['code']} (winner: {entry['winner']})")
            for key in entry["differs"]:
                sides = ", ".join(f"{s}={v[key]}" for s, v in entry["sources"].items())
                w(f"    {key}: target={entry['target'][key]} {sides}")
        for entry in clashes["dossier_codes"]:
            w(f"clash: dossier code {entry['code']} of {entry['source']} gets a suffix")
        for entry in clashes["api_keys"]:
            w(f"clash: API key {entry['prefix']} of {entry['source']} stays behind")
        for entry in clashes["staff"]:
            w(
                f"clash: {entry['email']} keeps the target's roles {entry['target_roles']} "
                f"(had {entry['source_roles']} in {entry['source']})"
            )
        w(f"kept from the target: {plan['kept_from_target']}")

    def _print_verification(self, merge: Merge, *, as_json: bool) -> None:
        result = merge.verification
        if as_json:
            self.stdout.write(json.dumps(result, indent=2))
            return
        for slug, tables in result.get("sources", {}).items():
            self.stdout.write(f"verification {slug}:")
            if "error" in tables:
                self.stdout.write(f"  {tables['error']}")
                continue
            for table, row in tables.items():
                mark = "ok" if row["ok"] else "DIFFERS"
                self.stdout.write(
                    f"  {table:40} {row['source_rows']:>8} {row['target_rows']:>8} "
                    f"{row['target_sha256'][:16]} {mark}"
                )
        self.stdout.write("verified: " + ("ok" if result.get("ok") else "NOT OK"))
