"""Where the config says the link store is, and the ``[workers]`` table."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync._store_config import links_target, worker_settings
from billing_milestones.sync.config import load_settings


def test_a_postgresql_url_in_the_file_is_kept_as_text(tmp_path: Path) -> None:
    config = tmp_path / "milestones.toml"
    config.write_text('links = "postgresql://sync@db:5432/links"\n')
    assert load_settings(config, env={}).links == "postgresql://sync@db:5432/links"


@pytest.mark.parametrize("var", ["BILLING_MILESTONES_LINKS", "MILESTONES_LINKS"])
def test_the_environment_wins_over_the_file(tmp_path: Path, var: str) -> None:
    config = tmp_path / "milestones.toml"
    config.write_text('links = "here.sqlite3"\n')
    assert load_settings(config, env={var: "postgresql://h/db"}).links == "postgresql://h/db"
    assert load_settings(config, env={var: "sqlite:///rel.db"}).links == Path("rel.db")


def test_the_new_variable_wins_over_the_old_one() -> None:
    env = {"BILLING_MILESTONES_LINKS": "postgresql://h/new", "MILESTONES_LINKS": "old.db"}
    assert links_target({}, None, env) == "postgresql://h/new"


def test_a_relative_sqlite_url_lies_beside_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "milestones.toml"
    config.parent.mkdir()
    assert links_target({"links": "sqlite:///state.db"}, config, {}) == (tmp_path / "conf" / "state.db").resolve()
    assert links_target({"links": "sqlite:////abs/state.db"}, config, {}) == Path("/abs/state.db")
    assert links_target({}, None, {}) == Path("milestones-links.sqlite3")


@pytest.mark.parametrize(
    ("raw", "key", "words"),
    [
        (5, "links", "expected a file path"),
        ("mysql://h/db", "links", "unknown link store scheme"),
    ],
)
def test_a_bad_links_value_names_the_key(raw: object, key: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as info:
        links_target({"links": raw}, None, {})
    assert info.value.key == key


def test_a_bad_links_variable_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        links_target({}, None, {"BILLING_MILESTONES_LINKS": "redis://h"})
    assert info.value.key == "BILLING_MILESTONES_LINKS"


def test_the_workers_table_is_read_and_checked(tmp_path: Path) -> None:
    config = tmp_path / "milestones.toml"
    config.write_text('[workers]\nschedule = { a = 15 }\nretries = 3\nretry_wait = 10\nqueue = "bm-1"\n')
    settings = worker_settings(config, {"a": object()})
    assert (dict(settings.schedule), settings.retries, settings.retry_wait, settings.queue) == (
        {"a": 15},
        3,
        10,
        "bm-1",
    )
    assert worker_settings(None, {}).schedule == {}
    assert (settings.autotask_threads, settings.autotask_hourly_budget) == (3, 10_000)
    assert settings.kantata_requests_per_minute is None and settings.autotask_timeout is None
    config.write_text(
        "[workers]\nautotask_threads = 2\nautotask_hourly_budget = 500\nkantata_requests_per_minute = 90\n"
        "autotask_timeout = 2\n"
    )
    shared = worker_settings(config, {})
    assert (shared.autotask_threads, shared.autotask_hourly_budget, shared.kantata_requests_per_minute) == (2, 500, 90)
    assert shared.autotask_timeout == 2.0


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("schedule = { b = 15 }", "workers.schedule.b"),
        ("schedule = { a = 0 }", "workers.schedule.a"),
        ("schedule = { a = true }", "workers.schedule.a"),
        ("schedule = { a = 45 }", "workers.schedule.a"),  # :00 and :45, then :00 again 15 minutes later
        ("schedule = { a = 90 }", "workers.schedule.a"),
        ("schedule = { a = 420 }", "workers.schedule.a"),  # every 7 hours from midnight: 21:00, then 00:00
        ("schedule = 5", "workers.schedule"),
        ("retries = -1", "workers.retries"),
        ("retry_wait = 0", "workers.retry_wait"),
        ('queue = "a b"', "workers.queue"),
        ("colour = 1", "workers.colour"),
        ("autotask_threads = 4", "workers.autotask_threads"),
        ("autotask_hourly_budget = 0", "workers.autotask_hourly_budget"),
        ("kantata_requests_per_minute = 0", "workers.kantata_requests_per_minute"),
        ("autotask_timeout = 0", "workers.autotask_timeout"),
        ("autotask_timeout = 301", "workers.autotask_timeout"),
        ('autotask_timeout = "2"', "workers.autotask_timeout"),
        ("autotask_timeout = true", "workers.autotask_timeout"),
    ],
)
def test_bad_workers_values_name_their_key(tmp_path: Path, body: str, key: str) -> None:
    config = tmp_path / "milestones.toml"
    config.write_text(f"[workers]\n{body}\n")
    with pytest.raises(ConfigError) as info:
        worker_settings(config, {"a": object()})
    assert info.value.key == key
