"""milestones sandbox serve: one-line usage errors for a busy port and a non-loopback host; all the
environment the examples' --live mode needs, AUTOTASK_CURRENCY included."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_milestones.cli import EXIT_USAGE

from .conftest import Invoke

LIVE = Path(__file__).resolve().parents[2] / "examples" / "_live.py"


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_port_in_use_is_one_line_and_exit_two(invoke: Invoke, busy_port: int) -> None:
    result = invoke("sandbox", "serve", "--port", str(busy_port))
    assert result.exit_code == EXIT_USAGE, result.output
    (line,) = result.stderr.strip().splitlines()
    assert f"--port {busy_port}" in line and "already in use" in line and "--port 0" in line
    assert result.stdout == ""


def test_a_host_beyond_loopback_is_refused_with_exit_two(invoke: Invoke) -> None:
    result = invoke("sandbox", "serve", "--host", "0.0.0.0", "--port", "0")
    assert result.exit_code == EXIT_USAGE, result.output
    (line,) = result.stderr.strip().splitlines()
    assert "--host 0.0.0.0" in line and "loopback" in line


def _live_module() -> object:
    spec = importlib.util.spec_from_file_location("examples_live", LIVE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_serve_prints_everything_live_mode_needs() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "billing_milestones", "sandbox", "serve", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        env = json.loads(proc.stdout.readline())["environment"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    needed = {var for rows in _live_module().ENVIRONMENT.values() for var, _, _ in rows}  # type: ignore[attr-defined]
    assert needed <= set(env), needed - set(env)
    assert env["AUTOTASK_CURRENCY"] == "USD"


def test_live_calls_the_crmcom_default_the_sandbox_host() -> None:
    from billing_milestones.crmcom._operations import DEFAULT_BASE_URL

    doc = LIVE.read_text(encoding="utf-8").split('"""', 2)[1]
    assert "production API" not in doc
    assert "sandbox host" in doc and DEFAULT_BASE_URL in doc
