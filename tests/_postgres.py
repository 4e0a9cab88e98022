"""A real, throwaway PostgreSQL server for the tests: no mocked database.

The session fixture finds ``initdb``/``pg_ctl`` (on ``PATH`` or Debian's /usr/lib/postgresql/N/bin), makes
a data directory under /tmp, starts the server on a free loopback port with its socket in that directory and
stops it when the session ends. PostgreSQL refuses to run as root, so as root both commands run as the
``postgres`` user. Where no server can be started the tests that need one are skipped with the reason; in CI
(``CI`` set) that is a failure instead, so a broken install can never pass as green.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["Cluster", "PostgresServer", "cluster", "fresh_database", "postgres_server", "store_url"]


@dataclass(frozen=True)
class PostgresServer:
    """A running server: ``url(db)`` names one of its databases."""

    host: str
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").is_file():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    """The command as the ``postgres`` user when we are root (the server refuses root)."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI and could not be started: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL server: {reason}")


@dataclass(frozen=True)
class Cluster:
    """A started server's data directory, the folder holding it, its socket and log, and its programs: what
    stopping and starting it again takes (``tests/workers/_ops_server.py``)."""

    bin_dir: Path
    data: Path
    root: Path
    port: int


@contextlib.contextmanager
def _running_server() -> Iterator[PostgresServer]:
    with cluster() as started:
        yield PostgresServer("127.0.0.1", started.port)


@contextlib.contextmanager
def cluster(prefix: str = "bm-pg-") -> Iterator[Cluster]:
    """A throwaway server started on a free loopback port, stopped and removed when the block ends."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        _unavailable("initdb not found on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    assert bin_dir is not None
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _unavailable("running as root and runuser is missing, so the server cannot run as postgres")
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
    started = False
    try:
        init = subprocess.run(
            _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if init.returncode != 0:
            _unavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
        # Another process (an xdist worker starting its own server) may bind the free port first: try a new one.
        for attempt in range(_PORT_TRIES):
            port = _free_port()
            start = _start(bin_dir, data, root, port)
            if start.returncode == 0:
                break
            log = (root / "log").read_text(errors="replace")[-500:] if (root / "log").exists() else ""
            if "already in use" not in log or attempt == _PORT_TRIES - 1:
                _unavailable(f"pg_ctl start failed: {start.stderr.strip()[-300:]} {log}")
        started = True
        _watchdog(bin_dir, data, root)
        yield Cluster(bin_dir, data, root, port)
    finally:
        if started:
            subprocess.run(
                _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)


_PORT_TRIES = 3


def _start(bin_dir: Path, data: Path, root: Path, port: int) -> subprocess.CompletedProcess[str]:
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    return subprocess.run(
        [
            *_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w"]),
            "start",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _watchdog(bin_dir: Path, data: Path, root: Path) -> None:
    """Stop the server and remove its directory if this process dies without its teardown (a killed or
    timed-out pytest): a detached shell polls our pid, so no orphaned server outlives the session."""
    stop = " ".join(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]))
    script = f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; {stop} >/dev/null 2>&1; rm -rf {root}"
    subprocess.Popen(
        ["sh", "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One server for the whole session, started only when a test asks for it."""
    with _running_server() as server:
        yield server


def fresh_database(server: PostgresServer) -> str:
    """A new, empty schema on ``server`` (cheaper than a database); a URL whose search_path is it."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return server.url() + f"?options=-csearch_path%3D{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty link store of each backend: the same test runs against SQLite and real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'links.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return fresh_database(server)
