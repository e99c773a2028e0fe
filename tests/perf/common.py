"""Shared helpers for the benchmarks: Django set-up, a fresh bench database, agencies, gunicorn.

Each benchmark runs in its own process and its own database
(``motcua_bench_<name>`` on the bench profile's PostgreSQL, or on
``DATABASE_URL``'s server), created from scratch: shared migrations, then the
agency template. Results are printed as ``BENCH <name> <value> <unit> goal=<goal>``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "config.settings.bench"
# ``python3 dev.py bench --quick``: every benchmark on small data, to prove they all run (CI).
# Its figures are not the README's: they come from full runs.
QUICK = os.environ.get("BENCH_QUICK") == "1"


def size(full: Any, quick: Any) -> Any:
    """The full run's size, or the quick run's."""
    return quick if QUICK else full


def setup_django(name: str) -> None:
    """Configure Django for benchmark ``name`` (its own database), once per process.

    The benchmark process creates and migrates its database, so it connects as the owner
    role; the servers it measures run as the application role, as in production.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    os.environ.setdefault("BENCH_DATABASE_NAME", f"motcua_bench_{name}")
    os.environ.setdefault("MOTCUA_DATABASE_ROLE", "owner")
    for path in (str(ROOT), str(ROOT / "platform")):
        if path not in sys.path:
            sys.path.insert(0, path)
    import django

    django.setup()


def bench_line(name: str, value: float, unit: str, goal: str) -> str:
    """Print and return one result line; ``goal`` reads like ``<=1`` or ``>=0.9``."""
    line = f"BENCH {name} {value:.4g} {unit} goal={goal}"
    print(line, flush=True)
    return line


def detail(text: str) -> None:
    print(f"  detail: {text}", flush=True)


def _admin_connection() -> Any:
    """A connection to the server's maintenance database (to drop/create the bench database)."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname="postgres",
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        autocommit=True,
    )


def prepare_database() -> None:
    """Drop and recreate this benchmark's database: shared migrations, then the template."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    name = settings.DATABASES["default"]["NAME"]
    if not str(name).startswith("motcua_bench"):
        raise SystemExit(f"refusing to recreate database {name!r}: not a bench database")
    connections.close_all()
    template = _migrated_template()
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return
        admin.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    from tenants import services

    services.template_ensure()


def code_fingerprint() -> str:
    """What a migrated bench database depends on: every migration and the agency template's
    code. A change to any of them makes a new template database."""
    import hashlib

    digest = hashlib.sha256()
    files = sorted(ROOT.glob("**/migrations/*.py")) + sorted((ROOT / "tenants").glob("*.py"))
    for path in files:
        if ".venv" in path.parts or "var" in path.parts:
            continue
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _migrated_template() -> str:
    """A database migrated once (shared migrations and the agency template) that each
    benchmark's database is copied from (CREATE DATABASE … TEMPLATE: seconds less per
    benchmark); made on first use, under an advisory lock. '' with BENCH_NO_TEMPLATE=1."""
    from django.core.management import call_command
    from django.db import connections

    if os.environ.get("BENCH_NO_TEMPLATE") == "1":
        return ""
    template = f"motcua_bench__migrated_{code_fingerprint()}"
    with _admin_connection() as admin:
        admin.execute("SELECT pg_advisory_lock(hashtext('motcua_bench_template'))")
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [template]
        ).fetchone()
        if not exists:
            stale = "SELECT datname FROM pg_database WHERE datname LIKE %s"
            for (old,) in admin.execute(stale, ["motcua\\_bench\\_\\_migrated\\_%"]).fetchall():
                admin.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
            building = f"{template}_building"
            admin.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{building}"')
            db = connections["default"].settings_dict
            own_name = db["NAME"]
            db["NAME"] = building
            connections.close_all()
            try:
                call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
                from tenants import services

                services.template_ensure()
            finally:
                connections.close_all()
                db["NAME"] = own_name
            admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
        admin.execute("SELECT pg_advisory_unlock(hashtext('motcua_bench_template'))")
    return template


def drop_database() -> None:
    from django.conf import settings
    from django.db import connections

    name = settings.DATABASES["default"]["NAME"]
    connections.close_all()
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_agency(
    slug: str, *, provision: bool = True, use_template: bool = True, **extra: Any
) -> Any:
    """Create (and provision) one commune agency through the services."""
    from tenants import services

    agency = services.agency_create(
        slug=slug,
        name=extra.pop("name", f"Xã {slug}"),
        kind=extra.pop("kind", "commune"),
        province_code=extra.pop("province_code", "31"),
        **extra,
    )
    if provision:
        agency = services.agency_provision(agency=agency, use_template=use_template).agency
    return agency


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def gunicorn_serving(
    *,
    app: str = "config.wsgi:application",
    workers: int = 2,
    threads: int = 4,
    env: dict[str, str] | None = None,
    ready_host: str = "localhost",
    timeout: float = 60.0,
    preload: bool = QUICK,
) -> Iterator[int]:
    """Run gunicorn (bench settings, loopback, ``workers`` × ``threads``); yield its port.

    gthread workers keep connections alive, which the load generator relies on.
    """
    port = free_port()
    process_env = dict(os.environ)
    process_env["MOTCUA_DATABASE_ROLE"] = "app"  # what production's web workers connect as
    process_env.update(env or {})
    process_env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "platform")])
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
        # Quick mode: the application is imported once, in the master, and the workers fork
        # from it (seconds of CPU less per server on a loaded machine; requests run the same
        # code). Full runs import it in each worker, as production does.
        *(["--preload"] if preload else []),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=process_env)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with code {proc.returncode}")
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/ping/", headers={"Host": ready_host}
                )
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not become ready")
            time.sleep(0.2)
        yield port
    finally:
        # SIGQUIT: gunicorn's quick shutdown. The measurement is over; the graceful one (SIGTERM)
        # waited seconds for idle keep-alive connections, per benchmark.
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def warm(
    port: int,
    host: str,
    paths: list[str],
    times: int = 20,
    headers: dict[str, str] | None = None,
) -> None:
    """Hit each path a few times on every worker so caches and connections are warm."""
    for path in paths:
        for _ in range(times):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", headers={"Host": host, **(headers or {})}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status != 200:
                    raise RuntimeError(f"{path} answered {response.status}")
                response.read()


SUBMISSION_FORM = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Trạm y tế xã",
}


def _small_pdf(n: int) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = b"%PDF-1.4\n" + b"0" * 20_000 + f"\n%{n}\n%%EOF\n".encode()
    return SimpleUploadedFile(f"to-khai-{n}.pdf", body, content_type="application/pdf")


def submission_overhead(
    module: Any, attribute: str, *, submissions: int = 0, warm_up: int = 20
) -> tuple[float, float]:
    """Median seconds of one online submission with ``module.attribute`` as it is, and with it
    swapped for a no-op (in this process only): the cost of what that call does.

    Submissions alternate one by one, so a busy moment of the machine hits both alike.
    """
    import statistics

    from django.contrib.auth import get_user_model

    submissions = submissions or size(600, 30)

    from catalog.data import SAMPLE_CATALOG
    from catalog.services import catalog_import
    from lifecycle.submit import Applicant, dossier_submit
    from procedures.models import AgencyProcedure
    from procedures.services import procedures_adopt_for_kind
    from tenants.context import agency_context

    catalog_import(raw=SAMPLE_CATALOG.read_bytes())
    agency = create_agency("xa-so-cai", code="SC")
    citizen = get_user_model().objects.create_user(
        email="cong-dan@example.vn", password="x", full_name="Nguyễn Văn A",
        personal_id_number="031099001234", phone="0912345678",
    )  # fmt: skip
    real = getattr(module, attribute)

    def no_op(**_kwargs: Any) -> None:
        return None

    samples: dict[bool, list[float]] = {True: [], False: []}
    with agency_context(agency):
        procedures_adopt_for_kind(agency=agency, publish=True)
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        applicant = Applicant.from_user(citizen)
        try:
            for i in range(warm_up + submissions):
                keep = i % 2 == 0
                setattr(module, attribute, real if keep else no_op)
                started = time.perf_counter()
                dossier_submit(agency=agency, procedure=birth, applicant=applicant,
                               form_data=SUBMISSION_FORM,
                               files={0: [_small_pdf(i)], 1: [_small_pdf(i + 1)]})  # fmt: skip
                if i >= warm_up:
                    samples[keep].append(time.perf_counter() - started)
        finally:
            setattr(module, attribute, real)
    return statistics.median(samples[True]), statistics.median(samples[False])
