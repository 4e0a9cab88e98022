"""``[workers]`` values at their edges: a schedule, ``retries`` or ``retry_wait`` that is not a whole number in
range (0, negative, fractional, huge, text, a boolean, an uneven period) is a ConfigError naming its key, before
any worker connects; the values in range are taken as given."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync._store_config import WorkerSettings, worker_settings

_PAIRS = {"erp": object(), "website": object()}


def _read(tmp_path: Path, body: str) -> WorkerSettings:
    config = tmp_path / "milestones.toml"
    config.write_text(f"[workers]\n{body}\n")
    return worker_settings(config, _PAIRS)


@pytest.mark.parametrize(
    "value",
    [
        "0",
        "-15",
        "7.5",
        "15.0",
        "1000000000",
        "9223372036854775807",
        '"15"',
        "true",
        "[15]",
        "{ every = 15 }",
        "45",
        "1441",
        "2880",
        "nan",
        "inf",
    ],
)
def test_a_schedule_out_of_range_names_its_key(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        _read(tmp_path, f"schedule = {{ erp = {value} }}")
    assert info.value.key == "workers.schedule.erp" and str(info.value).startswith("workers.schedule.erp: ")


def test_a_schedule_of_an_unknown_pair_or_not_a_table_names_its_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _read(tmp_path, "schedule = { ledger = 15 }")
    assert info.value.key == "workers.schedule.ledger" and "known: erp, website" in str(info.value)
    with pytest.raises(ConfigError) as info:
        _read(tmp_path, "schedule = 15")
    assert info.value.key == "workers.schedule"


@pytest.mark.parametrize(("key", "value"), [
    ("retries", "-1"), ("retries", "101"), ("retries", "2.5"), ("retries", '"3"'), ("retries", "true"),
    ("retry_wait", "0"), ("retry_wait", "-1"), ("retry_wait", "3601"), ("retry_wait", "1.5"), ("retry_wait", '"30"'),
    ("retry_wait", "false"),
])  # fmt: skip
def test_retries_and_their_wait_out_of_range_name_their_key(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        _read(tmp_path, f"{key} = {value}")
    assert info.value.key == f"workers.{key}" and str(info.value).startswith(f"workers.{key}: expected a whole number")


def test_the_edges_in_range_are_taken(tmp_path: Path) -> None:
    settings = _read(tmp_path, "schedule = { erp = 1, website = 1440 }\nretries = 0\nretry_wait = 3600")
    assert settings == WorkerSettings(schedule={"erp": 1, "website": 1440}, retries=0, retry_wait=3600)
    settings = _read(tmp_path, "retries = 100\nretry_wait = 1")
    assert (settings.retries, settings.retry_wait) == (100, 1)
