"""PgBouncer proven: real requests of many agencies at once through Debian's PgBouncer, no
``search_path`` leak in session pooling; transaction pooling shown to leak on this PgBouncer.

The test installs Debian's ``pgbouncer`` when it is missing (as dev.py does chromium), starts
two of its own on free loopback ports in front of the test database (one in session mode, as
infra/pgbouncer.ini, one in transaction mode), and stops them after. Fewer server connections
than client threads, so every server connection serves several agencies in turn.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from tenants.context import agency_context
from tenants.db import connection

PGBOUNCER = Path("/usr/sbin/pgbouncer")
RUN_AS = "embedded_postgres"  # the embedded PostgreSQL's user: PgBouncer refuses to run as root


def _ensure_pgbouncer() -> None:
    if PGBOUNCER.exists():
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    apt = shutil.which("apt-get")
    assert apt and os.geteuid() == 0, "Debian's pgbouncer is missing and cannot be installed"
    if subprocess.run([apt, "install", "-y", "-q", "pgbouncer"], env=env).returncode != 0:
        subprocess.run([apt, "update", "-q"], env=env, check=True)
        subprocess.run([apt, "install", "-y", "-q", "pgbouncer"], env=env, check=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Bouncer:
    port: int
    process: subprocess.Popen[bytes]
    mode: str


def _start(folder: Path, mode: str, pool_size: int) -> Bouncer:
    main = connections.settings["default"]
    port = _free_port()
    users = (main["USER"], settings.DATABASE_APP_ROLE)
    (folder / f"users-{mode}.txt").write_text("".join(f'"{u}" ""\n' for u in users))
    config = folder / f"pgbouncer-{mode}.ini"
    config.write_text(
        f"""[databases]
{main["NAME"]} = host={main["HOST"]} port={main["PORT"]} dbname={main["NAME"]}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / f"users-{mode}.txt"}
pool_mode = {mode}
default_pool_size = {pool_size}
max_client_conn = 200
server_reset_query = DISCARD ALL
logfile = {folder / f"pgbouncer-{mode}.log"}
pidfile = {folder / f"pgbouncer-{mode}.pid"}
"""
    )
    prefix = ["runuser", "-u", RUN_AS, "--"] if os.geteuid() == 0 else []
    process = subprocess.Popen([*prefix, str(PGBOUNCER), str(config)])
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / f"pgbouncer-{mode}.log").read_text(errors="replace")
                raise RuntimeError(f"pgbouncer ({mode}) did not start:\n{log}") from None
            time.sleep(0.05)
    return Bouncer(port, process, mode)


@pytest.fixture
def bouncers(transactional_db: None) -> Iterator[dict[str, Bouncer]]:
    _ensure_pgbouncer()
    folder = Path(tempfile.mkdtemp(prefix="motcua-pgbouncer-"))
    if os.geteuid() == 0:
        shutil.chown(folder, RUN_AS, RUN_AS)
    started: dict[str, Bouncer] = {}
    try:
        started["session"] = _start(folder, "session", pool_size=3)
        started["transaction"] = _start(folder, "transaction", pool_size=1)
        yield started
    finally:
        connections.close_all()
        for bouncer in started.values():
            bouncer.process.send_signal(signal.SIGTERM)  # immediate shutdown, servers closed
            try:
                bouncer.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                bouncer.process.kill()
        shutil.rmtree(folder, ignore_errors=True)


def _raw(port: int) -> psycopg.Connection:
    main = connections.settings["default"]
    return psycopg.connect(
        host="127.0.0.1", port=port, user=main["USER"], dbname=main["NAME"], autocommit=True
    )


def _search_path(conn: psycopg.Connection) -> str:
    row = conn.execute("SHOW search_path").fetchone()
    assert row is not None
    return str(row[0])


def test_transaction_pooling_loses_search_path_session_pooling_keeps_it(bouncers) -> None:
    """Why infra/pgbouncer.ini says session: two clients, one server connection between them."""
    for mode, expected in (("transaction", "phuong_b"), ("session", "phuong_a")):
        first, second = _raw(bouncers[mode].port), _raw(bouncers[mode].port)
        try:
            first.execute("SET search_path = phuong_a")
            second.execute("SET search_path = phuong_b")
            assert _search_path(first) == expected, mode
        finally:
            first.close()
            second.close()


def test_many_agencies_at_once_through_pgbouncer_see_only_their_own_schema(
    bouncers, make_agency
) -> None:
    from audit.services import audit_record

    agencies = []
    for k in range(1, 7):
        agency = make_agency(f"xa-bouncer-{k}", name=f"Xã Bouncer {k}")
        with agency_context(agency):
            for _ in range(k):  # agency k holds exactly k audit entries
                audit_record(action="test.bouncer", actor=None, target=agency.slug)
        agencies.append((agency, k))
    connections.close_all()

    home = connections.settings["default"]
    saved = home["HOST"], home["PORT"]
    home["HOST"], home["PORT"] = "127.0.0.1", str(bouncers["session"].port)
    wrong: list[str] = []
    backends: dict[int, set[str]] = {}
    lock = threading.Lock()

    def worker(offset: int) -> None:
        client = Client()
        try:
            for i in range(24):
                agency, k = agencies[(offset + i) % len(agencies)]
                response = client.get(
                    "/", HTTP_HOST=f"{agency.slug}.{settings.PLATFORM_BASE_DOMAIN}"
                )
                if response.status_code != 200 or agency.name not in response.text:
                    with lock:
                        wrong.append(f"{agency.slug}: HTTP {response.status_code}")
                with agency_context(agency), connection.cursor() as cursor:
                    # Unqualified: found through the search_path of whatever server connection
                    # PgBouncer handed this client.
                    cursor.execute("SELECT count(*), pg_backend_pid() FROM audit_auditentry")
                    count, pid = cursor.fetchone()
                with lock:
                    backends.setdefault(pid, set()).add(agency.slug)
                    if count != k:
                        wrong.append(f"{agency.slug}: saw {count} entries, has {k}")
                connection.close()  # back to PgBouncer's pool, as at the end of a request
        finally:
            connections.close_all()

    try:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        home["HOST"], home["PORT"] = saved
        connections.close_all()
    assert wrong == []
    assert sum(len(slugs) for slugs in backends.values()) > len(backends)  # reused across agencies
    assert len(backends) <= 3  # default_pool_size: 8 clients shared 3 server connections
