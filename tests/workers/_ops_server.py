"""A PostgreSQL server of a test's own that the test can stop and start again on the same port (a restart, an
outage), unlike the session's shared one: built from ``tests._postgres``'s pieces."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .._postgres import PostgresServer, _as_postgres, _start, cluster

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
    with cluster("bm-pg-ops-") as started:
        server = PostgresServer("127.0.0.1", started.port)
        yield RestartableServer(server, started.bin_dir, started.data, started.root)
