"""``ConfigNow``: the pair a worker read, checked against its config file as it is now (and its platforms'
tables against the file as it was when the worker started); every way the file can differ is a ConfigError
naming the pair (and the endpoints, as they were and are)."""

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
from billing_milestones.workers._config_now import ConfigNow

_FILE = (
    '[pairs.erp]\nsource = "autotask:1"\ntarget = "kantata:2"\n\n'
    '[pairs.website]\nsource = "crmcom:w"\ntarget = "kantata:3"\n'
)


def _config(tmp_path: Path, text: str = _FILE) -> Path:
    config = tmp_path / "milestones.toml"
    config.write_text(text)
    return config


def test_an_unchanged_pair_is_the_one_read(tmp_path: Path) -> None:
    config = _config(tmp_path)
    settings = load_settings(config, env={})
    now = ConfigNow(settings)
    config.write_text(
        _FILE.replace('target = "kantata:3"', 'target = "kantata:4"') + '\n# edited\n[crmcom]\napi = "backoffice"\n'
    )
    assert now.pair("erp") is settings.pair("erp")  # only another pair, and a platform erp does not use, changed
    assert ConfigNow(dataclasses.replace(settings, path=None)).pair("erp") is settings.pair("erp")


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
        (lambda text: text + '[kantata]\nbase_url = "https://other.example"\n', "(kantata.base_url)"),
        (lambda text: '[autotask]\nusername = "b@example.com"\n' + text, "(autotask.username)"),
        (
            lambda text: text.replace("kantata:2", "kantata:9") + "[kantata]\njson_suffix = true\n",
            "(target kantata:2 -> kantata:9, kantata.json_suffix)",
        ),
    ],
)
def test_a_changed_pair_is_refused_saying_what_changed(tmp_path: Path, edit: Callable[[str], str], said: str) -> None:
    config = _config(tmp_path)
    now = ConfigNow(load_settings(config, env={}))
    config.write_text(edit(_FILE))
    with pytest.raises(ConfigError) as info:
        now.pair("erp")
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
    now = ConfigNow(load_settings(config, env={}))
    edit(config)
    with pytest.raises(ConfigError) as info:
        now.pair("erp")
    assert info.value.key == "pairs.erp" and str(info.value).startswith("pairs.erp: ") and said in str(info.value)


def test_the_file_is_parsed_again_only_when_it_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path)
    settings = load_settings(config, env={})
    parsed: list[object] = []

    def counted(raw: Any) -> Any:
        parsed.append(raw)
        return _config_now_pairs(raw)

    monkeypatch.setattr(_config_now, "_pairs", counted)
    now = ConfigNow(settings)
    for _ in range(3):
        now.pair("erp")
    assert (
        len(parsed) == 4
    )  # its start, and each job  # changed just now: its stat cannot tell a change of the same size yet
    monkeypatch.setattr(_config_now, "RACY", -1.0)  # as if it changed long ago
    for _ in range(3):
        now.pair("erp")
    assert len(parsed) == 5  # parsed once, then its stat unchanged
    before = config.stat()
    config.write_text(_FILE.replace("kantata:2", "kantata:8"))  # the same size, its old times put back
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(ConfigError, match="target kantata:2 -> kantata:8"):
        now.pair("erp")  # the change time still moved


def test_the_environments_overrides_are_no_change(tmp_path: Path) -> None:
    """A platform's table is compared with the file as it was, not with the settings the environment
    overrode: a worker whose Kantata URL comes from the environment runs its pairs."""
    config = _config(tmp_path, _FILE + '[kantata]\nbase_url = "https://file.example"\n')
    settings = load_settings(config, env={"KANTATA_BASE_URL": "https://env.example"})
    assert settings.kantata.base_url == "https://env.example"
    assert ConfigNow(settings).pair("erp") is settings.pair("erp")
