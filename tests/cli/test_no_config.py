"""Without a milestones.toml, a command that needs one says no file was found and where it looked."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_milestones.cli import EXIT_USAGE

from .conftest import Invoke


@pytest.mark.parametrize("args", [["plan", "erp"], ["sync", "erp", "--dry-run"], ["list", "crmcom", "website"]])
def test_no_config_file_names_where_it_looked(
    invoke: Invoke, tmp_path: Path, env: dict[str, str], args: list[str]
) -> None:
    result = invoke(*args, env=env)  # run from an empty folder, MILESTONES_CONFIG unset
    assert result.exit_code == EXIT_USAGE, result.output
    (line,) = result.stderr.strip().splitlines()
    assert "no config file was found" in line and "known: none" not in line
    assert str(tmp_path / "milestones.toml") in line and "$MILESTONES_CONFIG (not set)" in line
    assert "--config PATH" in line


def test_with_a_config_file_an_unknown_pair_still_lists_the_known_ones(
    invoke: Invoke, cfg: Path, env: dict[str, str]
) -> None:
    result = invoke("plan", "nope", "--config", str(cfg), env=env)
    assert result.exit_code == EXIT_USAGE and "known: erp, website" in result.stderr
