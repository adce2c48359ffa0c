"""A real, private PostgreSQL for the tests (no mocks).

``pg_server`` (session scope) gives a DSN: ``$APPLIANCE_TEST_PG_DSN`` when set,
else a throw-away cluster made with Debian's ``initdb``/``pg_ctl`` (run as the
``postgres`` OS user when the tests run as root) on a free loopback port in a
temporary directory, stopped at the end of the session.  ``pg_dsn`` (function
scope) gives every test its own fresh schema in that server, so tests never see
each other's rows and need no cleanup.

Use from a conftest: ``from tests.pgfixture import pg_server, pg_dsn  # noqa: F401``.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV_DSN = "APPLIANCE_TEST_PG_DSN"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _absent(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{why} (.ci/setup.d/10-postgres.sh must install it)")
    pytest.skip(why)


class LocalCluster:
    """initdb + pg_ctl in a temp dir; as the ``postgres`` user when we are root."""

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.port = _free_port()
        self.root = tempfile.mkdtemp(prefix="appliance-pg-")
        self.data = os.path.join(self.root, "data")
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("postgres")
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        os.chmod(self.root, 0o755)

    def _run(self, *argv: str, timeout: float = 60) -> None:
        cmd = list(argv)
        if self.user is not None:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")

    def start(self) -> str:
        self._run(f"{self.bindir}/initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-instructions")
        # fsync stays on: the crash tests rely on acknowledged commits being durable.
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
                "-c max_connections=200 -c shared_buffers=64MB -c fsync=on -c synchronous_commit=on "
                "-c log_min_messages=warning")
        self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-o", opts, "-l", os.path.join(self.root, "log"),
                  "-w", "-t", "60", "start")
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def stop(self) -> None:
        try:
            self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        except Exception:
            pass
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self) -> str:
        try:
            return Path(self.root, "log").read_text()[-4000:]
        except OSError:
            return ""


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """DSN of a PostgreSQL server reserved for this test session."""
    dsn = os.environ.get(ENV_DSN)
    if dsn:
        yield dsn
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _absent("psycopg is not installed")
    bindir = pg_bindir()
    if bindir is None:
        _absent("PostgreSQL server binaries (initdb) are not installed")
    cluster = LocalCluster(bindir)  # type: ignore[arg-type]
    try:
        dsn = cluster.start()
    except Exception as exc:
        tail = cluster.log_tail()
        cluster.stop()
        pytest.fail(f"cannot start a private PostgreSQL: {exc}\n{tail}")
    try:
        yield dsn
    finally:
        cluster.stop()


def with_schema(dsn: str, schema: str) -> str:
    return f"{dsn} options='-csearch_path={schema}'"


@pytest.fixture
def pg_dsn(pg_server: str) -> Iterator[str]:
    """A DSN whose search_path is a brand-new schema (dropped afterwards)."""
    import psycopg
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield with_schema(pg_server, schema)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def backend_target(cfg) -> tuple[str, str]:
    """(backend, target) for tests/store/hammer.py: the SQLite file path or the PostgreSQL DSN."""
    if cfg.database.backend == "postgres":
        return "postgres", cfg.database.dsn
    return "sqlite", str(cfg.database_path)


def sql_connect(cfg, readonly: bool = False):
    """A raw DB-API connection to the configured store, for independent readers and audits.

    Both backends' connections have ``execute(sql)`` returning an iterable cursor.
    """
    if cfg.database.backend == "postgres":
        import psycopg
        return psycopg.connect(cfg.database.dsn, autocommit=True)
    import sqlite3
    path = str(cfg.database_path)
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True) if readonly else sqlite3.connect(path)
