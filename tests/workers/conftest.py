"""What the worker tests share: the demo's emulators on a loopback port and a config whose link store (and
so the queue) is a fresh schema on the session's real PostgreSQL server; a fresh schema's URL alone (``url``)
and the limiters a test makes, closed after it (``limiters``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from billing_milestones.demo import DemoWorld, build_demo_world, demo_config_toml, sandbox_environment
from billing_milestones.sandbox import LoopbackServer
from billing_milestones.sync.config import Settings, load_settings
from billing_milestones.workers import PostgresLimiter

from .._postgres import PostgresServer, fresh_database


@dataclass
class Deployment:
    world: DemoWorld
    config: Path
    env: dict[str, str]
    links: str

    def settings(self) -> Settings:
        return load_settings(self.config, env=self.env)


@pytest.fixture
def deployment(tmp_path: Path, postgres_server: PostgresServer) -> Iterator[Deployment]:
    world = build_demo_world()
    links = fresh_database(postgres_server)
    config = tmp_path / "milestones.toml"
    config.write_text(
        # write_settle: the emulators answer on loopback within a second, so a killed worker's request is served
        # before a rerun lists (96 s by default, the clients' longest request).
        demo_config_toml(world, links=links).replace("allow_drop = true", "allow_drop = true\nwrite_settle = 2")
        + '\n[workers]\nretries = 3\nretry_wait = 1\nqueue = "test"\n'
    )
    with LoopbackServer(world.asgi_app()) as server:
        yield Deployment(world, config, sandbox_environment(server.url), links)


@pytest.fixture
def url(postgres_server: PostgresServer) -> str:
    return fresh_database(postgres_server)


@pytest.fixture
def limiters() -> Iterator[list[PostgresLimiter]]:
    made: list[PostgresLimiter] = []
    yield made
    for limiter in made:
        limiter.close()
