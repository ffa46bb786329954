"""A throwaway PostgreSQL server on a loopback port, for the hub's tests.

Started once per test run with the server binaries on this machine (``initdb``, ``pg_ctl``), as
an unprivileged user when the tests run as root. Tests skip, saying why, where no server binary
exists.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ADMIN = "hubadmin"


def _bindir() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    def __init__(self, port: int) -> None:
        self.port = port

    def url(self, role: str = ADMIN, database: str = "hub") -> str:
        return f"postgresql://{role}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, role: str = ADMIN, database: str = "hub") -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=role, dbname=database,
                             autocommit=True) as conn:
            conn.execute(statement)

    def fresh_database(self, name: str) -> str:
        self.sql(f"DROP DATABASE IF EXISTS {name}", database="postgres")
        self.sql(f"CREATE DATABASE {name}", database="postgres")
        return name


class NoServer(Exception):
    """No PostgreSQL server can be started here; the message says why."""


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    pytest.importorskip("psycopg", reason="psycopg (the PostgreSQL driver) is not installed")
    try:
        with throwaway_server() as server:
            yield server
    except NoServer as why:
        pytest.skip(str(why))


@contextmanager
def throwaway_server() -> Iterator[PgServer]:
    """Start a server in a temporary folder, on a free loopback port; stop and remove it after."""
    bindir = _bindir()
    if bindir is None:
        raise NoServer("no PostgreSQL server binaries (initdb) on this machine; install Debian's "
                       "postgresql package")
    root = Path(tempfile.mkdtemp(prefix="cmo-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = "postgres" if shutil.which("runuser") and _user_exists("postgres") else "nobody"
        as_user = ["runuser", "-u", user, "--"]
        shutil.chown(root, user)
        shutil.chown(sock, user)
        root.chmod(0o700)
    port = _free_port()
    log = root / "server.log"
    try:
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", ADMIN,
                        "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
                       check=True, capture_output=True)
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                        "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 "
                              "-c max_connections=60 -c fsync=off", "start"],
                       check=True, capture_output=True)
    except subprocess.CalledProcessError as err:
        shutil.rmtree(root, ignore_errors=True)
        raise NoServer(f"could not start a PostgreSQL server: {err.stderr.decode()[-300:]}") from None
    server = PgServer(port)
    for _ in range(50):
        try:
            server.sql("SELECT 1", database="postgres")
            break
        except Exception:  # noqa: BLE001 - still starting
            time.sleep(0.1)
    try:
        yield server
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
