"""Where no PostgreSQL can be started its tests skip with the reason, and in CI they fail instead."""

from __future__ import annotations

import pytest

from .._postgres import _unavailable


def test_without_a_server_the_tests_skip_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL server: initdb not found"):
        _unavailable("initdb not found")


def test_in_ci_a_missing_server_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"required in CI.*initdb not found"):
        _unavailable("initdb not found")
