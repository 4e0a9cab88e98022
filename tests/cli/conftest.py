"""What the CLI tests share: the seeded sandbox on a loopback port, its config file, and a runner at 80 columns."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from billing_milestones.cli import app
from billing_milestones.demo import DemoWorld, build_demo_world, demo_config_toml, sandbox_environment
from billing_milestones.sandbox import LoopbackServer

Invoke = Callable[..., Result]


@pytest.fixture
def world() -> DemoWorld:
    return build_demo_world()


@pytest.fixture
def url(world: DemoWorld) -> Iterator[str]:
    with LoopbackServer(world.asgi_app()) as server:
        yield server.url


@pytest.fixture
def env(url: str) -> dict[str, str]:
    """The sandbox's environment as `sandbox serve` prints it, at the 80 columns of a plain terminal."""
    return {**sandbox_environment(url), "AUTOTASK_CURRENCY": "USD", "COLUMNS": "80"}


@pytest.fixture
def cfg(tmp_path: Path, world: DemoWorld) -> Path:
    path = tmp_path / "milestones.toml"
    path.write_text(demo_config_toml(world, links=str(tmp_path / "links.sqlite3")))
    return path


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Invoke:
    """Run ``milestones ARGS`` in-process at 80 columns, from an empty folder, with only the env given."""
    monkeypatch.chdir(tmp_path)
    for var in ("MILESTONES_CONFIG", "MILESTONES_LINKS"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), env={"COLUMNS": "80", **(env or {})}, input=input)

    return run
