"""``milestones sandbox serve --latency --faults --scale``: a slow, flaky sandbox of many contracts, the config of
their pairs printed, and what each emulator served said when it stops (SIGTERM as Ctrl-C)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from billing_milestones.cli import EXIT_USAGE
from billing_milestones.errors import ConfigError
from billing_milestones.sandbox import AutotaskSandbox, KantataSandbox
from billing_milestones.sandbox._scale import flaky, parse_scale, seed_scale
from billing_milestones.sandbox.kantata import DEMO_TOKEN
from billing_milestones.sync.config import load_settings

from .conftest import Invoke


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("200", "PAIRSxMILESTONES"),
        ("3y2", "PAIRSxMILESTONES"),
        ("\u0663x\u0663", "PAIRSxMILESTONES"),  # digits of another script: ASCII digits only
        ("0x5", "out of bounds"),
        ("1000x1000", "in all"),
    ],
)
def test_a_bad_scale_is_refused_naming_the_option(text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named) as info:
        parse_scale(text)
    assert info.value.key == "scale" and str(info.value).startswith("--scale: ")
    assert parse_scale(" 200x50 ") == (200, 50)


def test_latency_and_faults_out_of_range_are_refused_naming_the_option(invoke: Invoke) -> None:
    for args, named in (
        (["--faults", "1"], "--faults"),
        (["--latency", "-1"], "--latency"),
        (["--scale", "x"], "--scale"),
    ):
        result = invoke("sandbox", "serve", "--port", "0", *args)
        assert result.exit_code == EXIT_USAGE, result.output
        assert result.stderr.strip().startswith(f"error: {named}: "), result.stderr
    plan = flaky(3, 0.02, 0.25)
    assert [rule.fault.kind.value for rule in plan.rules] == ["latency", "status"] and plan.seed == 3
    assert flaky(3, 0, 0).rules == []


def test_the_scaled_contracts_and_the_printed_pairs_load_as_a_config(tmp_path: Path) -> None:
    autotask, kantata = AutotaskSandbox(), KantataSandbox()
    scaled = seed_scale(autotask, kantata, 3, 4)
    assert len(scaled.pairs) == 3 and len(autotask.milestones) == 12
    contract, workspace = scaled.pairs[2]
    titles = sorted(m["title"] for m in autotask.milestones.values() if m["contractID"] == contract)
    assert titles == ["P2 M0", "P2 M1", "P2 M2", "P2 M3"] and workspace in kantata.workspaces
    path = tmp_path / "milestones.toml"
    path.write_text('[autotask]\ncurrency = "USD"\n\n' + "\n".join(scaled.config_lines()))
    settings = load_settings(path, env={})
    assert sorted(settings.pairs) == ["p000", "p001", "p002"]
    assert settings.pair("p002").source[1] == str(contract) and settings.pair("p002").target[1] == workspace


def _first_line(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, "the server exited before printing its address"
    found: dict[str, Any] = json.loads(line)
    return found


def test_serve_is_slow_and_flaky_as_asked_and_says_what_it_served_when_terminated() -> None:
    argv = [sys.executable, "-m", "billing_milestones", "sandbox", "serve", "--port", "0", "--json", "--empty"]
    argv += ["--scale", "2x3", "--latency", "0.05", "--faults", "0.5", "--fault-seed", "11"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        started = _first_line(proc)
        assert [p[1] for p in started["seeded"]["scale"]["pairs"]] == ["1001", "1002"]
        assert "[pairs.p001]" in started["seeded"]["config_toml"]
        url = started["environment"]["KANTATA_BASE_URL"] + "/workspaces/1001"
        begun = time.monotonic()
        statuses = [httpx.get(url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}).status_code for _ in range(8)]
        assert time.monotonic() - begun >= 8 * 0.05  # every request waited its latency
        assert set(statuses) == {200, 503}
        proc.send_signal(signal.SIGTERM)
        stopped = _first_line(proc)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    kantata = stopped["served"]["kantata"]
    assert stopped["stopped"] is True and kantata["requests"] == 8
    assert kantata["faults"] == statuses.count(503) and kantata["statuses"]["503"] == statuses.count(503)
    assert kantata["refused_by_limits"] == 0 and stopped["served"]["autotask"]["requests"] == 0


def test_a_sigterm_right_after_the_first_line_still_gets_the_last() -> None:
    """A script that reads the address and stops the sandbox at once: the handlers are in place before the
    first line is printed."""
    argv = [sys.executable, "-m", "billing_milestones", "sandbox", "serve", "--port", "0", "--json", "--empty"]
    for _ in range(5):
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        try:
            _first_line(proc)
            proc.send_signal(signal.SIGTERM)
            assert _first_line(proc)["stopped"] is True
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
