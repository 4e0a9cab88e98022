"""benchmarks/slot_handover.py keeps running (its numbers are printed, never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .._postgres import PostgresServer

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "slot_handover.py"


@pytest.mark.parametrize(
    ("args", "printed"),
    [
        (["--processes", "2", "--holds", "3", "--rounds", "1"], "slots used"),
        (["--latency", "--handovers", "3", "--rounds", "1"], "release -> a waiting process's take"),
    ],
)
def test_the_slot_handover_benchmark_runs(postgres_server: PostgresServer, args: list[str], printed: str) -> None:
    """It starts a server of its own; the session's is asked for only so that the test is skipped where
    none can be started, with the reason."""
    run = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert printed in run.stdout
