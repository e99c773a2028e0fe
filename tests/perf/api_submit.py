"""Benchmark: dossiers submitted through the REST API, one 100 KB PDF each.

    DJANGO_SETTINGS_MODULE=config.settings.bench .venv/bin/python -m tests.perf.api_submit

Prepares its own state in the bench database (an agency with the published procedure
S-CT-001 and an API key without rate limit), serves the app with gunicorn on
loopback, and submits from several client processes for a sustained period
(BENCH_API_SECONDS, default 30, after BENCH_API_WARMUP seconds not counted).
Checks that every accepted dossier has a unique code and that the database holds
exactly as many new dossiers as were accepted.
Prints ``BENCH api_submit <dossiers/s> dossiers/s goal=>=100`` and a DETAIL line
(p50/p99 latency, counts). Exits non-zero if an integrity check fails.

Settings (environment): BENCH_API_SECONDS, BENCH_API_CLIENTS (processes),
BENCH_API_THREADS (connections per process), BENCH_API_WORKERS and
BENCH_API_WORKER_THREADS (gunicorn).
"""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from tests.perf.common import QUICK, size

ROOT = Path(__file__).resolve().parents[2]
SLUG = "bench-api"
PROCEDURE = "S-CT-001"  # one required component, one integer field
GOAL = 100.0
PDF_SIZE = 100 * 1024


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# -- Preparing the bench database ------------------------------------------------------------


def _ensure_database() -> None:
    """Create the bench database on its server if it is not there yet."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    params = {
        "host": db["HOST"],
        "port": db["PORT"] or None,
        "user": db["USER"],
        "password": db["PASSWORD"] or None,
    }
    try:
        psycopg.connect(dbname=db["NAME"], **params).close()
        return
    except psycopg.OperationalError:
        pass
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


def prepare() -> tuple[str, str]:
    """Migrate, provision the bench agency with its procedure, issue a key. -> (host, key)"""
    import django

    django.setup()
    _ensure_database()
    from django.core.management import call_command

    call_command("migrate_agencies", verbosity=0)
    from api.services import api_key_issue
    from catalog.data import SAMPLE_CATALOG
    from catalog.services import catalog_import
    from procedures.models import AgencyProcedure
    from procedures.services import procedures_adopt_for_kind
    from tenants import services
    from tenants.context import agency_context
    from tenants.models import Agency, AgencyKind, AgencyStatus, Domain

    catalog_import(raw=SAMPLE_CATALOG.read_bytes())
    agency = Agency.objects.filter(slug=SLUG).first()
    if agency is None:
        agency = services.agency_create(
            slug=SLUG, name="Xã Đo Tải API", kind=AgencyKind.COMMUNE, province_code="31", code="BA"
        )
    if agency.status != AgencyStatus.ACTIVE:
        agency = services.agency_provision(agency=agency).agency
    host = Domain.objects.filter(tenant=agency, is_primary=True).values_list("domain", flat=True)[0]
    with agency_context(agency):
        if not AgencyProcedure.objects.filter(code=PROCEDURE, is_published=True).exists():
            procedures_adopt_for_kind(agency=agency, publish=True)
        key = api_key_issue(
            name=f"bench {time.strftime('%Y-%m-%d %H:%M')}",
            scopes=["dossiers:write"],
            rate_limit_per_minute=0,
        ).secret
    return host, key


def _dossier_count() -> int:
    from dossiers.models import Dossier
    from tenants.context import agency_context
    from tenants.models import Agency

    with agency_context(Agency.objects.get(slug=SLUG)):
        return Dossier.objects.count()


def _media_folder() -> Path:
    from django.conf import settings

    from tenants.models import Agency

    schema = Agency.objects.get(slug=SLUG).schema_name
    return Path(settings.MEDIA_ROOT) / schema


# -- Serving -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "MOTCUA_DATABASE_ROLE": "app",  # the web workers' role in production
    }
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        "config.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(_env_int("BENCH_API_WORKERS", 2)),
        "--worker-class", "gthread",
        "--threads", str(_env_int("BENCH_API_WORKER_THREADS", 4)),
        "--keep-alive", "30",
        "--log-level", "warning",
        *(["--preload"] if QUICK else []),  # as tests/perf/common.gunicorn_serving
    ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)


def _wait_ready(port: int, host: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited before it was ready")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/ping/", headers={"Host": host})
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGQUIT)  # gunicorn's quick shutdown: the run is over
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# -- Clients -------------------------------------------------------------------------------


def _pdf() -> bytes:
    head = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    return head + b"%" + b"0" * (PDF_SIZE - len(head) - 1)


def _body(boundary: str, pdf: bytes, n: int) -> bytes:
    data = {
        "applicant": {"name": f"Người nộp {n}", "phone": "0912345678"},
        "form": {"pages": 3},
    }
    return b"".join(
        [
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="data"\r\n\r\n',
            json.dumps(data, ensure_ascii=False).encode(),
            f"\r\n--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="component_0"; filename="ban-sao.pdf"\r\n',
            b"Content-Type: application/pdf\r\n\r\n",
            pdf,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )


def _client_thread(
    port: int, host: str, key: str, until: float, out: list[tuple[int, float, str]]
) -> None:
    boundary = uuid.uuid4().hex
    pdf = _pdf()
    headers = {
        "Host": host,
        "Authorization": f"Bearer {key}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Accept-Language": "en",
    }
    conn: http.client.HTTPConnection | None = None
    n = 0
    while time.monotonic() < until:
        n += 1
        body = _body(boundary, pdf, n)
        started = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("POST", f"/api/v1/procedures/{PROCEDURE}/dossiers", body, headers)
            response = conn.getresponse()
            payload = response.read()
            status = response.status
            code = json.loads(payload).get("code", "") if status == 201 else payload[:200].decode()
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as exc:
            status, code = 0, repr(exc)
            if conn is not None:
                conn.close()
            conn = None
        out.append((status, time.perf_counter() - started, code))
    if conn is not None:
        conn.close()


def _client_process(port: int, host: str, key: str, until: float, threads: int, queue: Any) -> None:
    results: list[tuple[int, float, str]] = []
    workers = [
        threading.Thread(target=_client_thread, args=(port, host, key, until, results))
        for _ in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put(results)


def load(
    port: int, host: str, key: str, seconds: float
) -> tuple[list[tuple[int, float, str]], float]:
    processes = _env_int("BENCH_API_CLIENTS", 2)
    threads = _env_int("BENCH_API_THREADS", 4)
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    started = time.monotonic()
    until = started + seconds
    procs = [
        ctx.Process(target=_client_process, args=(port, host, key, until, threads, queue))
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    results: list[tuple[int, float, str]] = []
    for _ in procs:
        results.extend(queue.get(timeout=seconds + 120))
    for p in procs:
        p.join(timeout=30)
    return results, time.monotonic() - started


# -- The benchmark ---------------------------------------------------------------------------


def run() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    os.environ.setdefault("MOTCUA_DATABASE_ROLE", "owner")  # creates and migrates its database
    seconds = float(os.environ.get("BENCH_API_SECONDS", size(30, 4)))
    warmup = float(os.environ.get("BENCH_API_WARMUP", size(3, 1)))
    host, key = prepare()
    from django.db import connections

    port = _free_port()
    server = serve(port)
    try:
        _wait_ready(port, host, server)
        connections.close_all()  # forked clients must not share this process's connection
        load(port, host, key, warmup)  # every worker process and connection warmed up
        before = _dossier_count()
        connections.close_all()
        results, elapsed = load(port, host, key, seconds)
    finally:
        stop(server)
    accepted = [code for status, _t, code in results if status == 201]
    failed = [(status, code) for status, _t, code in results if status != 201]
    latencies = sorted(t for _s, t, _c in results)
    after = _dossier_count()
    rate = len(accepted) / elapsed
    p50 = statistics.median(latencies) * 1000 if latencies else 0.0
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else 0
    unique = len(set(accepted)) == len(accepted)
    counted = after - before == len(accepted)
    print(f"BENCH api_submit {rate:.1f} dossiers/s goal=>={GOAL:.0f}")
    print(
        f"DETAIL api_submit p50={p50:.1f}ms p99={p99:.1f}ms accepted={len(accepted)} "
        f"refused={len(failed)} seconds={elapsed:.1f} codes_unique={unique} "
        f"db_new={after - before} db_matches_accepted={counted}"
    )
    if failed:
        print(f"DETAIL api_submit first refusals: {failed[:3]}")
    # Bench data only: the stored files are not kept between runs (rows are).
    shutil.rmtree(_media_folder() / "dossiers", ignore_errors=True)
    if not (unique and counted):
        raise SystemExit(1)


if __name__ == "__main__":
    run()
