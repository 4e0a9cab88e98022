"""A worker whose config file's ``links`` changed since it started: its store and queue are still the ones
it opened, which the commands reading the file now no longer use; its jobs are refused, naming ``links``."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync.config import load_settings
from billing_milestones.workers._config_now import ConfigNow

_PAIRS = '[pairs.erp]\nsource = "autotask:1"\ntarget = "kantata:2"\n'


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('links = "postgresql://sync:s3cret@old/links"\n', 'links = "postgresql://sync:s3cret@new/links"\n'),
        ('links = "postgresql://sync:s3cret@old/links"\n', ""),  # back to the default SQLite file
        ("", 'links = "postgresql://sync:s3cret@new/links"\n'),
        ('links = "a.sqlite3"\n', 'links = "b.sqlite3"\n'),
    ],
)
def test_a_job_is_refused_once_the_files_links_names_another_store(tmp_path: Path, before: str, after: str) -> None:
    """Moved to a new database (docs/scale.md: stop the syncs, migrate, change links) with a worker left
    running: its schedule still ran every pair against the old store, and the commands the new links in the
    file, against the new one, each creating every milestone."""
    config = tmp_path / "milestones.toml"
    config.write_text(before + _PAIRS)
    settings = load_settings(config, env={})
    now = ConfigNow(settings)
    assert now.pair("erp") is settings.pair("erp")
    config.write_text(after + _PAIRS + "# edited\n")
    with pytest.raises(ConfigError, match=r"changed in .* since this worker read it \(links\)") as info:
        now.pair("erp")
    assert info.value.key == "pairs.erp" and "s3cret" not in str(info.value)


def test_the_files_links_is_no_change_when_the_environment_chose_the_store(tmp_path: Path) -> None:
    config = tmp_path / "milestones.toml"
    config.write_text('links = "postgresql://sync@old/links"\n' + _PAIRS)
    settings = load_settings(config, env={"BILLING_MILESTONES_LINKS": "postgresql://sync@env/links"})
    now = ConfigNow(settings)
    config.write_text('links = "postgresql://sync@new/links"\n' + _PAIRS)
    assert now.pair("erp") is settings.pair("erp")


def test_the_same_links_written_otherwise_elsewhere_in_the_file_is_no_change(tmp_path: Path) -> None:
    config = tmp_path / "milestones.toml"
    config.write_text('links = "postgresql://sync@db/links"\n' + _PAIRS)
    settings = load_settings(config, env={})
    now = ConfigNow(settings)
    config.write_text('# moved below a comment\nlinks = "postgresql://sync@db/links"\n\n' + _PAIRS)
    assert now.pair("erp") is settings.pair("erp")
