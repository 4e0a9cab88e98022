"""A PostgreSQL server of a test's own that the test can stop and start again on the same port (a restart, an
outage), unlike the session's shared one: built from ``tests._postgres``'s pieces."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .._postgres import PostgresServer, _as_postgres, _bin_dir, _free_port, _start, _unavailable, _watchdog

__all__ = ["RestartableServer", "restartable_server"]


@dataclass
class RestartableServer:
    """A running server (``server``) whose ``stop()`` ends every session and refuses connections until
    ``start()``, on the same port and data."""

    server: PostgresServer
    bin_dir: Path
    data: Path
    root: Path

    def stop(self, mode: str = "fast") -> None:
        done = subprocess.run(
            _as_postgres([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        done = _start(self.bin_dir, self.data, self.root, self.server.port)
        assert done.returncode == 0, done.stderr


@contextlib.contextmanager
def restartable_server() -> Iterator[RestartableServer]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        _unavailable("initdb not found on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="bm-pg-ops-", dir="/tmp"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
    own = RestartableServer(PostgresServer("127.0.0.1", 0), bin_dir, data, root)
    try:
        init = subprocess.run(
            _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if init.returncode != 0:
            _unavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
        port = _free_port()
        own.server = PostgresServer("127.0.0.1", port)
        own.start()
        _watchdog(bin_dir, data, root)
        yield own
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
