"""Help and errors a person reads at 80 columns: --version, environment and exit codes, markup kept, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_milestones import __version__
from billing_milestones.sync.config import OVERRIDES, SECRETS

from .conftest import Invoke

COMMANDS = [[], ["list"], ["plan"], ["sync"], ["demo"], ["sandbox"], ["sandbox", "serve"]]


def test_version(invoke: Invoke) -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"milestones (billing-milestones) {__version__}"


def test_help_lists_every_environment_variable_and_the_exit_codes(invoke: Invoke) -> None:
    text = invoke("--help").stdout
    variables = [v for table in (SECRETS, OVERRIDES) for section in table.values() for v in section.values()]
    for var in [*variables, "MILESTONES_CONFIG", "BILLING_MILESTONES_LINKS"]:
        assert f"  {var} " in text, var
    assert "Exit codes:" in text and "  130  " in text
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "milestones")
def test_help_shows_flags_without_a_type_and_keeps_brackets(invoke: Invoke, command: list[str]) -> None:
    text = invoke(*command, "--help").stdout
    assert "<bool>" not in text and "Usage:" in text
    if command in (["plan"], ["sync"]):
        assert "[pairs]" in text


def test_an_error_on_stderr_is_one_line_whatever_the_width(invoke: Invoke, cfg: Path, env: dict[str, str]) -> None:
    without = {k: v for k, v in env.items() if k not in ("AUTOTASK_SECRET", "AUTOTASK_INTEGRATION_CODE")}
    result = invoke("plan", "erp", "--config", str(cfg), env=without)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert len(line) > 80 and "AUTOTASK_SECRET" in line and "AUTOTASK_INTEGRATION_CODE" in line
