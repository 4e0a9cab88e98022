"""``pair_as_configured_now``: the pair a worker read, checked against its config file as it is now; every
way the file can differ is a ConfigError naming the pair (and the endpoints, as they were and are)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync.config import _pairs as _config_now_pairs
from billing_milestones.sync.config import load_settings
from billing_milestones.workers import _config_now
from billing_milestones.workers._config_now import pair_as_configured_now

_FILE = (
    '[pairs.erp]\nsource = "autotask:1"\ntarget = "kantata:2"\n\n'
    '[pairs.website]\nsource = "crmcom:w"\ntarget = "kantata:3"\n'
)


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "milestones.toml"
    config.write_text(_FILE)
    return config


def test_an_unchanged_pair_is_the_one_read(tmp_path: Path) -> None:
    config = _config(tmp_path)
    settings = load_settings(config, env={})
    config.write_text(_FILE.replace('target = "kantata:3"', 'target = "kantata:4"') + "\n# edited\n")
    assert pair_as_configured_now(settings, "erp") is settings.pair("erp")  # only another pair changed
    assert pair_as_configured_now(dataclasses.replace(settings, path=None), "erp") is settings.pair("erp")


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda text: text.replace("kantata:2", "kantata:9"), "(target kantata:2 -> kantata:9)"),
        (lambda text: text.replace("autotask:1", " autotask:7"), "(source autotask:1 -> autotask:7)"),
        (
            lambda text: text.replace('target = "kantata:2"\n', 'target = "kantata:2"\npolicy = "source-wins"\n'),
            "(policy)",
        ),
        (
            lambda text: text.replace('target = "kantata:2"\n', 'target = "kantata:2"\nallow_drop = true\n'),
            "(allow_drop)",
        ),
    ],
)
def test_a_changed_pair_is_refused_saying_what_changed(tmp_path: Path, edit: Callable[[str], str], said: str) -> None:
    config = _config(tmp_path)
    settings = load_settings(config, env={})
    config.write_text(edit(_FILE))
    with pytest.raises(ConfigError) as info:
        pair_as_configured_now(settings, "erp")
    assert info.value.key == "pairs.erp" and f"pairs.erp: changed in {config} since this worker read it {said}" in str(
        info.value
    )


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda config: config.write_text(_FILE.replace("[pairs.erp]", "[pairs.ledger]")), "taken out of"),
        (lambda config: config.unlink(), "could not be read again before the run (FileNotFoundError"),
        (
            lambda config: config.write_text(_FILE + "[pairs.erp\n"),
            "could not be read again before the run (TOMLDecodeError",
        ),
        (lambda config: config.write_bytes(b"\xff\xfe"), "could not be read again before the run (UnicodeDecodeError"),
        (
            lambda config: config.write_text(_FILE.replace("kantata:3", "nowhere:3")),
            "could not be read again before the run (ConfigError",
        ),
    ],
)
def test_a_pair_taken_out_or_a_file_unreadable_is_refused(
    tmp_path: Path, edit: Callable[[Path], object], said: str
) -> None:
    config = _config(tmp_path)
    settings = load_settings(config, env={})
    edit(config)
    with pytest.raises(ConfigError) as info:
        pair_as_configured_now(settings, "erp")
    assert info.value.key == "pairs.erp" and str(info.value).startswith("pairs.erp: ") and said in str(info.value)


def test_the_file_is_parsed_again_only_when_it_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path)
    settings = load_settings(config, env={})
    parsed: list[object] = []

    def counted(raw: Any) -> Any:
        parsed.append(raw)
        return _config_now_pairs(raw)

    monkeypatch.setattr(_config_now, "_pairs", counted)
    for _ in range(3):
        pair_as_configured_now(settings, "erp")
    assert len(parsed) == 3  # changed just now: its stat cannot tell a change of the same size yet
    monkeypatch.setattr(_config_now, "RACY", -1.0)  # as if it changed long ago
    for _ in range(3):
        pair_as_configured_now(settings, "erp")
    assert len(parsed) == 4  # parsed once, then its stat unchanged
    before = config.stat()
    config.write_text(_FILE.replace("kantata:2", "kantata:8"))  # the same size, its old times put back
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(ConfigError, match="target kantata:2 -> kantata:8"):
        pair_as_configured_now(settings, "erp")  # the change time still moved
