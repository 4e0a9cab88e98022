"""One exit-code table: --help and docs/sync.md show the same rows, and each kind of failure exits with its code."""

from __future__ import annotations

import re
from pathlib import Path

from billing_milestones.cli import EXIT_CODES, EXIT_INTERRUPTED, EXIT_USAGE

from .conftest import Invoke

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sync.md"


def _docs_rows() -> list[int]:
    section = DOCS.read_text(encoding="utf-8").split("### Exit codes", 1)[1].split("\n### ", 1)[0]
    return [int(code) for code in re.findall(r"^\| (\d+) \|", section, flags=re.MULTILINE)]


def test_the_table_has_the_interrupt_code_and_the_docs_carry_the_same_rows() -> None:
    codes = [code for code, _ in EXIT_CODES]
    assert codes == [0, 1, 2, 3, 130] and EXIT_INTERRUPTED == 130
    assert _docs_rows() == codes


def test_help_prints_every_code_with_its_meaning(invoke: Invoke) -> None:
    shown = invoke("--help")
    assert shown.exit_code == 0
    text = " ".join(shown.output.split())
    assert "Exit codes:" in text
    for code, meaning in EXIT_CODES:
        assert f"{code} {meaning}" in text, code


def test_an_unknown_pair_is_a_usage_error(invoke: Invoke, cfg: Path, env: dict[str, str]) -> None:
    result = invoke("plan", "nope", "--config", str(cfg), env=env)
    assert result.exit_code == EXIT_USAGE and "pairs.nope" in result.output


def test_a_bad_option_value_is_a_usage_error(invoke: Invoke, cfg: Path) -> None:
    for args in (["sync", "erp", "--wait", "-1"], ["plan", "erp", "--policy", "bogus"], ["list", "kantata"]):
        result = invoke(*args, "--config", str(cfg))
        assert result.exit_code == EXIT_USAGE, (args, result.output)


def test_a_bad_config_file_is_a_usage_error(invoke: Invoke, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[pairs.erp\nsource = 1\n")
    result = invoke("plan", "erp", "--config", str(broken))
    assert result.exit_code == EXIT_USAGE and "not valid TOML" in result.output
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('[kantata]\nbase_url = "not a url"\n')
    result = invoke("list", "kantata", "1", "--config", str(unknown), env={"KANTATA_TOKEN": "t"})
    assert result.exit_code == EXIT_USAGE and "kantata.base_url" in result.output
