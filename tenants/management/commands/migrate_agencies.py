"""Migrate the public schema, the template and every agency schema that needs it.

With several clusters (tenants.clusters), every cluster at once: one child process each
(``--cluster NAME``), their progress lines prefixed with the cluster's name; a cluster that
does not answer is reported and skipped while the others migrate.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants import clusters, services

UNAVAILABLE_EXIT = 3  # a child's exit status: its cluster did not answer


class Command(BaseCommand):
    help = (
        "Apply pending migrations: public schema, template, then each agency schema whose "
        "recorded state differs from the code (others are skipped without a migration run)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--verify",
            action="store_true",
            help="also read every schema's django_migrations to catch drift",
        )
        parser.add_argument(
            "--repair-missing",
            action="store_true",
            help="recreate (empty, from the template) live agency schemas that no longer exist",
        )
        parser.add_argument("--skip-public", action="store_true")
        parser.add_argument(
            "--schema",
            action="append",
            dest="only",
            help="limit to these agency schemas (repeatable)",
        )
        parser.add_argument(
            "--cluster",
            action="append",
            dest="clusters",
            help="only this database cluster (repeatable); default: every cluster, in parallel",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        chosen = opts["clusters"] or []
        for name in chosen:
            if name not in clusters.names():
                raise CommandError(
                    f"unknown cluster {name!r}; known: {', '.join(clusters.names())}"
                )
        if not clusters.is_multi():
            self._migrate_here(opts, cluster="")
        elif len(chosen) == 1:
            self._migrate_one_cluster(opts, chosen[0])
        else:
            self._migrate_clusters(opts, chosen or clusters.names())

    def _migrate_one_cluster(self, opts: dict[str, Any], name: str) -> None:
        problem = clusters.available(name)
        if problem:
            self.stderr.write(f"cluster {name}: unavailable, skipped ({problem})")
            raise CommandError(f"cluster {name} unavailable", returncode=UNAVAILABLE_EXIT)
        self._migrate_here(opts, cluster=name)

    def _migrate_clusters(self, opts: dict[str, Any], names: list[str]) -> None:
        """One child process per cluster, all at once; their output prefixed, then a summary."""
        manage = Path(__file__).resolve().parents[3] / "manage.py"
        env = dict(os.environ, MOTCUA_DATABASE_ROLE="owner", **clusters.child_environment())
        passed = ["--verbosity", str(opts["verbosity"])]
        for flag in ("verify", "repair_missing", "skip_public"):
            if opts[flag]:
                passed.append("--" + flag.replace("_", "-"))
        for schema in opts["only"] or []:
            passed += ["--schema", schema]
        started = time.perf_counter()
        children = {
            name: subprocess.Popen(  # noqa: S603 - our own manage.py, our own arguments
                [sys.executable, str(manage), "migrate_agencies", "--cluster", name, *passed],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
            )
            for name in names
        }
        lock = threading.Lock()

        def relay(name: str, child: subprocess.Popen[str]) -> None:
            assert child.stdout is not None
            for line in child.stdout:
                with lock:
                    self.stdout.write(f"[{name}] {line.rstrip()}")

        threads = [
            threading.Thread(target=relay, args=(name, child), daemon=True)
            for name, child in children.items()
        ]
        for thread in threads:
            thread.start()
        codes = {name: child.wait() for name, child in children.items()}
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        down = [name for name, code in codes.items() if code == UNAVAILABLE_EXIT]
        failed = [name for name, code in codes.items() if code not in (0, UNAVAILABLE_EXIT)]
        done = [name for name, code in codes.items() if code == 0]
        self.stdout.write(
            f"{len(names)} clusters in {seconds:.2f}s: {len(done)} migrated"
            + (f" ({', '.join(done)})" if done else "")
            + f", {len(down)} unavailable"
            + (f" ({', '.join(down)}; skipped)" if down else "")
            + f", {len(failed)} failed"
            + (f" ({', '.join(failed)})" if failed else "")
        )
        if down or failed:
            raise CommandError(
                f"{len(down)} cluster(s) unavailable, {len(failed)} with failures: "
                "run the command again once they are back (only what is behind is migrated)"
            )

    def _migrate_here(self, opts: dict[str, Any], *, cluster: str) -> None:
        verbosity = int(opts["verbosity"])
        if not opts["skip_public"]:
            if cluster and cluster != clusters.main_name():
                with clusters.on_cluster(cluster):
                    call_command(
                        "migrate_schemas",
                        shared=True,
                        interactive=False,
                        verbosity=max(0, verbosity - 1),
                    )
            else:
                call_command(
                    "migrate_schemas",
                    shared=True,
                    interactive=False,
                    verbosity=max(0, verbosity - 1),
                )
        tty = sys.stdout.isatty()

        def progress(index: int, total: int, schema: str, state: str) -> None:
            if verbosity == 0:
                return
            width = 30
            filled = int(width * index / total) if total else width
            bar = "#" * filled + "-" * (width - filled)
            line = f"[{bar}] {index}/{total} {schema}: {state}"
            if tty and state == "migrating":
                self.stdout.write("\r" + line.ljust(90), ending="")
            elif state != "migrating":
                self.stdout.write(("\r" if tty else "") + line.ljust(90))

        report = services.agencies_migrate(
            verify=opts["verify"],
            repair_missing=opts["repair_missing"],
            only=opts["only"],
            progress=progress,
            cluster=cluster,
        )
        migrated = report.migrated or []
        self.stdout.write(
            f"{report.total} agency schemas: {len(migrated)} migrated, {report.skipped} already "
            f"up to date (skipped), {len(report.failed or {})} failed, in {report.seconds:.2f}s"
        )
        recreated = set(report.recreated or [])
        for schema in report.recreated or []:
            self.stdout.write(f"  {schema}: schema was missing; recreated empty from the template")
        lost = [name for name in report.missing or [] if name not in recreated]
        for schema in lost:
            self.stderr.write(
                f"  {schema}: the agency is live but its schema does not exist (its data is "
                "gone): restore it from a backup, or run with --repair-missing to recreate "
                "it empty"
            )
        if report.failed:
            for schema, error in report.failed.items():
                self.stderr.write(f"  {schema}: {error}")
            raise CommandError(f"{len(report.failed)} schema(s) failed to migrate")
        if lost:
            raise CommandError(f"{len(lost)} agency schema(s) missing")
