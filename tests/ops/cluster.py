"""Helpers of the on-demand operations scripts (backup/restore, failover): Debian packages,
throw-away PostgreSQL 15 instances, a Redis, Django pointed at them, free ports.

Everything lives in one temporary folder owned by the ``postgres`` user (PostgreSQL refuses to
run as root) and is stopped and removed by :class:`Workspace` on exit, whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("MOTCUA_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
OWNER, APP = "motcua_owner", "motcua_app"
PASSWORD = "ops-test-only"


def log(text: str) -> None:
    print(f"[ops] {text}", flush=True)


def ensure_debian_packages(*packages: str) -> None:
    """Install the Debian packages that are missing (the scripts run as root here)."""
    missing = [
        p
        for p in packages
        if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0
    ]
    if not missing:
        return
    log(f"installing Debian packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    result = subprocess.run(["apt-get", "install", "-y", "-q", *missing], env=env)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], env=env, check=True)
    if not (PG_BIN / "postgres").exists():
        raise SystemExit(f"PostgreSQL binaries not found in {PG_BIN} (set MOTCUA_PG_BIN)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def as_postgres(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` as the postgres user (root may not run PostgreSQL)."""
    prefix = ["runuser", "-u", PG_USER, "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *cmd], text=True, capture_output=True, **kw)


def checked(result: subprocess.CompletedProcess[str], what: str) -> str:
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Workspace:
    """A temporary folder; processes registered with it are stopped when it closes."""

    def __init__(self, prefix: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        shutil.chown(self.dir, PG_USER, PG_USER)
        self.dir.chmod(0o755)
        self.stops: list[Any] = []

    def path(self, name: str) -> Path:
        path = self.dir / name
        path.mkdir(parents=True, exist_ok=True)
        shutil.chown(path, PG_USER, PG_USER)
        return path

    def close(self) -> None:
        for stop in reversed(self.stops):
            with contextlib.suppress(Exception):
                stop()
        # Removed in the background: the clusters' data, WAL and backup repository are
        # thousands of files (about 10 s under load), and nothing waits for them to go.
        # Renamed first, so the folder is gone from its name at once.
        doomed = self.dir.with_name(self.dir.name + ".removing")
        try:
            self.dir.rename(doomed)
        except OSError:
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        subprocess.Popen(
            ["rm", "-rf", "--", str(doomed)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Instance:
    """One PostgreSQL 15 cluster (initdb'd here, or restored into ``data`` by someone else)."""

    def __init__(self, ws: Workspace, name: str, port: int | None = None) -> None:
        self.ws = ws
        self.name = name
        self.data = ws.dir / name
        self.port = port or free_port()
        self.socket_dir = ws.path("sockets")
        self.logfile = ws.dir / f"{name}.log"

    def initdb(self, extra_conf: str = "") -> None:
        checked(
            as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", PG_USER,
                 "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]
            ),
            "initdb",
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.socket_dir}'\n"
                "max_connections = 100\nshared_buffers = 128MB\n" + extra_conf
            )

    def start(self, *options: str) -> None:
        opts = " ".join(["-p", str(self.port), *options])
        checked(
            as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile),
                 "-o", opts, "-w", "-t", "120", "start"]
            ),
            f"starting {self.name}",
        )  # fmt: skip
        self.ws.stops.append(self.stop)

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def dsn(self, user: str = PG_USER, dbname: str = "postgres") -> str:
        password = "" if user == PG_USER else f" password={PASSWORD}"
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user}{password}"

    def url(self, user: str, dbname: str = "motcua") -> str:
        return f"postgresql://{user}:{PASSWORD}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres") -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.dsn(dbname=dbname), autocommit=True) as conn:
            cur = conn.execute(statement)
            return list(cur.fetchall()) if cur.description else []

    def wait_writable(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.sql("SELECT pg_is_in_recovery()") == [(False,)]:
                    return
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not become writable; see {self.logfile}")
            time.sleep(0.3)


def create_roles_and_database(instance: Instance) -> None:
    """The two roles and the database, as infra/README.md's set-up does it."""
    for statement in (
        f"CREATE ROLE {OWNER} LOGIN PASSWORD '{PASSWORD}'",
        f"CREATE ROLE {APP} LOGIN PASSWORD '{PASSWORD}' NOSUPERUSER NOCREATEDB NOCREATEROLE",
        f"GRANT {APP} TO {OWNER}",
        f"CREATE DATABASE motcua OWNER {OWNER}",
    ):
        instance.sql(statement)
    instance.sql("REVOKE CREATE ON SCHEMA public FROM PUBLIC", dbname="motcua")


def ensure_migrated(port: int, migrate: Any) -> None:
    """Bring database ``motcua`` of the PostgreSQL 15 server on ``port`` (empty, made by
    :func:`create_roles_and_database`) to the migrated state: from a dump of an earlier run made
    with the same migrations and agency template code (``var/ops-migrated-<fingerprint>.sql``,
    seconds), or by calling ``migrate()`` and then dumping the result for the next run.

    The dump is PostgreSQL 15's own ``pg_dump`` of a database this code migrated, owners and
    grants included (the roles have the same names on every ops server), so loading it gives the
    same database the migrations give, without a minute of migrations per operations proof.
    """
    from tests.perf.common import code_fingerprint

    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    dump = var / f"ops-migrated-{code_fingerprint()}.sql"
    env = {**os.environ, "PGPASSWORD": PASSWORD}
    connect = ["-h", "127.0.0.1", "-p", str(port), "-U", PG_USER, "-d", "motcua"]
    started = time.monotonic()
    if dump.exists():
        checked(
            subprocess.run(
                [str(PG_BIN / "psql"), *connect, "-q", "-X", "-v", "ON_ERROR_STOP=1",
                 "-f", str(dump)],
                env=env, text=True, capture_output=True,
            ),
            f"loading {dump.name}",
        )  # fmt: skip
        log(f"migrated state loaded from {dump.name} in {time.monotonic() - started:.1f} s")
        return
    migrate()
    log(f"migrated in {time.monotonic() - started:.1f} s")
    for stale in var.glob("ops-migrated-*.sql"):
        stale.unlink(missing_ok=True)
    partial = dump.with_suffix(f".{os.getpid()}.part")
    checked(
        subprocess.run(
            [str(PG_BIN / "pg_dump"), *connect, "--no-comments", "-f", str(partial)],
            env=env, text=True, capture_output=True,
        ),
        "pg_dump of the migrated database",
    )  # fmt: skip
    partial.rename(dump)


@contextlib.contextmanager
def redis_server(ws: Workspace) -> Iterator[str]:
    port = free_port()
    folder = ws.path("redis")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    ws.stops.append(lambda: _terminate(proc))
    deadline = time.monotonic() + 20
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            break
        if time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}"


def _terminate(proc: subprocess.Popen[Any], timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def django_env(*, app_url: str, owner_url: str, redis_url: str, media: Path) -> dict[str, str]:
    """The environment of a Django process of ours against these servers (bench settings)."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "DATABASE_URL": app_url,
        "DATABASE_OWNER_URL": owner_url,
        "BENCH_DATABASE_NAME": "motcua",
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(media),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
    }


def manage(env: dict[str, str], *args: str, timeout: float = 900) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return checked(result, f"manage.py {' '.join(args)}")


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ["MOTCUA_DATABASE_ROLE"] = "owner"  # this process seeds and checks as the owner
    for path in (str(ROOT), str(ROOT / "platform")):
        if path not in sys.path:
            sys.path.insert(0, path)
    import django

    django.setup()


def bench_line(name: str, value: float, unit: str, goal: str) -> None:
    print(f"BENCH {name} {value:.4g} {unit} goal={goal}", flush=True)
